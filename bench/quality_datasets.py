"""The data sets of bench_quality: files shipped inside PyPI packages, read where installed.

Each entry of `DATASETS` writes (or finds) one CSV in a work directory and names its label;
`STRESSES` says what each set stresses. The files are read from the installed dev
dependencies (palmerpenguins, scikit-learn, vega_datasets, statsmodels), never downloaded;
some are rewritten on the way (headers renamed to keywords, dates re-spelt, three 0/1
columns made one label), never their values, and no rows are left out.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd


def _package_file(package: str, name: str) -> Path:
    path = Path(str(resources.files(package).joinpath(name)))
    if not path.is_file():
        raise SystemExit(f"{package} does not ship {name}")
    return path


def _sklearn(name: str, loader: str) -> Callable[[Path], tuple[Path, str]]:
    def make(work: Path) -> tuple[Path, str]:
        from sklearn import datasets

        # the loaders read the CSV bundled in the wheel (sklearn/datasets/data/*.csv)
        _package_file("sklearn.datasets", f"data/{name}")
        bunch = getattr(datasets, loader)(as_frame=True)
        frame = bunch.frame.copy()
        frame["target"] = np.asarray(bunch.target_names)[bunch.target.to_numpy()]
        path = work / f"{loader.removeprefix('load_')}.csv"
        frame.rename(columns={"target": "class"}).to_csv(path, index=False)
        return path, "class"

    return make


def _penguins(name: str, label: str) -> Callable[[Path], tuple[Path, str]]:
    def make(_: Path) -> tuple[Path, str]:
        return _package_file("palmerpenguins", f"data/{name}"), label

    return make


def _vega(name: str) -> Path:
    return _package_file("vega_datasets", f"_data/{name}")


def _cars(work: Path) -> tuple[Path, str]:
    frame = pd.read_json(_vega("cars.json"))
    path = work / "cars.csv"
    frame.to_csv(path, index=False)
    return path, "Origin"


def _penguins_dots(work: Path) -> tuple[Path, str]:
    """penguins-raw with its egg dates written DD.MM.YYYY (free-text comments, gaps)."""
    frame = pd.read_csv(_package_file("palmerpenguins", "data/penguins-raw.csv"))
    frame["Date Egg"] = pd.to_datetime(frame["Date Egg"]).dt.strftime("%d.%m.%Y")
    path = work / "penguins-dots.csv"
    frame.to_csv(path, index=False)
    return path, "Species"


def _iris_keywords(work: Path) -> tuple[Path, str]:
    """iris with Python keywords, `self` and a digit first as headers."""
    frame = pd.read_csv(_package_file("sklearn.datasets", "data/iris.csv"), skiprows=1, header=None)
    frame.columns = ["lambda", "class", "self", "2nd width", "in"]
    frame["in"] = frame["in"].map({0: "setosa", 1: "versicolor", 2: "virginica"})
    path = work / "iris-keywords.csv"
    frame.to_csv(path, index=False)
    return path, "in"


def _digits(work: Path) -> tuple[Path, str]:
    """8x8 digits: 1797 rows, 10 classes, 64 numeric columns."""
    frame = pd.read_csv(_package_file("sklearn.datasets", "data/digits.csv.gz"), header=None)
    frame.columns = [*(f"pixel {i}" for i in range(64)), "digit"]
    frame["digit"] = "d" + frame["digit"].astype(str)
    path = work / "digits.csv"
    frame.to_csv(path, index=False)
    return path, "digit"


def _seattle(work: Path) -> tuple[Path, str]:
    """Seattle weather: YYYY/MM/DD dates, an imbalanced 5-class label (sun .. snow)."""
    path = work / "seattle-weather.csv"
    path.write_bytes(_vega("seattle-weather.csv").read_bytes())
    return path, "weather"


def _airports(work: Path) -> tuple[Path, str]:
    """US airports: the state (43 with >= 20 airports) from names, city and coordinates."""
    frame = pd.read_csv(_vega("airports.csv")).drop(columns=["iata", "country"])
    counts = frame["state"].value_counts()
    frame = frame[frame["state"].isin(counts[counts >= 20].index)]
    path = work / "airports.csv"
    frame.to_csv(path, index=False)
    return path, "state"


def _stocks(work: Path) -> tuple[Path, str]:
    """Stock prices: the symbol from the date (monthly, MM/DD/YYYY on the 1st) and the price."""
    frame = pd.read_csv(_vega("stocks.csv"))
    frame["date"] = pd.to_datetime(frame["date"], format="%b %d %Y").dt.strftime("%m/%d/%Y")
    path = work / "stocks.csv"
    frame.to_csv(path, index=False)
    return path, "symbol"


def _statsmodels(name: str) -> Path:
    return _package_file("statsmodels.datasets", f"{name}/{name}.csv")


def _fair(work: Path) -> tuple[Path, str]:
    """Fair's affairs survey: the marriage rating 1-5 (a number read as 5 classes), 6366 rows."""
    path = work / "fair.csv"
    path.write_bytes(_statsmodels("fair").read_bytes())
    return path, "rate_marriage"


def _randhie(work: Path) -> tuple[Path, str]:
    """RAND health insurance: self-rated health, 4 classes, from visits, plan, income; 20190 rows.

    The wheel gives health as three 0/1 columns (good, fair, poor; none: excellent): they
    become one label column, the other columns as they are. Rows are person-years: the
    features but the year's visits take 2300 distinct combinations (3 rows each at the
    median, mostly of one health), all of them 7929, so a split by rows puts the same
    person in train and test.
    """
    frame = pd.read_csv(_statsmodels("randhie"))
    health = frame.pop("hlthg") + 2 * frame.pop("hlthf") + 4 * frame.pop("hlthp")
    frame["health"] = health.map({0: "excellent", 1: "good", 2: "fair", 4: "poor"})
    path = work / "randhie.csv"
    frame.to_csv(path, index=False)
    return path, "health"


DATASETS: dict[str, Callable[[Path], tuple[Path, str]]] = {
    "penguins": _penguins("penguins.csv", "species"),
    "penguins-raw": _penguins("penguins-raw.csv", "Species"),
    "penguins-dots": _penguins_dots,
    "iris": _sklearn("iris.csv", "load_iris"),
    "iris-keywords": _iris_keywords,
    "wine": _sklearn("wine_data.csv", "load_wine"),
    "breast-cancer": _sklearn("breast_cancer.csv", "load_breast_cancer"),
    "cars": _cars,
    "digits": _digits,
    "seattle-weather": _seattle,
    "airports": _airports,
    "stocks": _stocks,
    "fair": _fair,
    "randhie": _randhie,
}
#: What each data set stresses.
STRESSES = {
    "penguins": "missing values",
    "penguins-raw": "free-text comments, ISO dates, missing values",
    "penguins-dots": "DD.MM.YYYY dates, free text",
    "iris": "small",
    "iris-keywords": "keyword headers (lambda, class, self, in), a digit first",
    "wine": "small, 13 numeric",
    "breast-cancer": "30 numeric",
    "cars": "free-text names, ISO dates, missing values",
    "digits": "10 classes, 64 columns",
    "seattle-weather": "YYYY/MM/DD dates, imbalanced 5 classes (31:1)",
    "airports": "43 classes, free-text names, ~3000 rows",
    "stocks": "MM/DD/YYYY dates all on day 1: each reads both ways, in one order",
    "fair": "6366 rows, a numeric label (1-5) read as 5 imbalanced classes (27:1)",
    "randhie": "20190 rows, imbalanced 4 classes (36:1), a person's values in several rows",
}
