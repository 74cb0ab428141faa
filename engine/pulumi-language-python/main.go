// Command pulumi-language-python is kfstack's own minimal Python language host for the engine
// test tier. The upstream host's Go module is not served by the Go module proxy these machines
// reach, so this one implements the part of the LanguageRuntime gRPC service that `pulumi
// preview/up/destroy` use: it runs the SDK's pulumi-language-python-exec script (installed beside
// this binary) with the project's Python interpreter, and passes the stack config through the
// PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS environment variables the SDK reads.
//
// Python interpreter: $KFSTACK_PYTHON if set, else <project root>/.venv/bin/python, else python3.
// Not implemented: dependency installation, `pulumi new`, code generation, packing, debugging.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is stamped at build time (-X main.version=...).
var version = "v0.0.0-dev"

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
	root          string
}

func (h *host) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	if req.RootDirectory != nil {
		h.root = req.GetRootDirectory()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

// No plugin is pre-installed: providers are found on PATH when the program registers resources.
func (h *host) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: strings.TrimPrefix(version, "v")}, nil
}

func (h *host) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	return &pulumirpc.AboutResponse{Executable: h.python(h.root), Version: version}, nil
}

func (h *host) GetProgramDependencies(
	context.Context, *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

func (h *host) InstallDependencies(
	*pulumirpc.InstallDependenciesRequest, grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	return nil // the project's .venv is made by `make sync`
}

func (h *host) python(root string) string {
	if p := os.Getenv("KFSTACK_PYTHON"); p != "" {
		return p
	}
	if root != "" {
		venv := filepath.Join(root, ".venv", "bin", "python")
		if _, err := os.Stat(venv); err == nil {
			return venv
		}
	}
	return "python3"
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	root, pwd, program := h.root, req.GetPwd(), req.GetProgram()
	if info := req.GetInfo(); info != nil {
		root = info.GetRootDirectory()
		pwd = info.GetProgramDirectory()
		program = info.GetEntryPoint()
	}
	if program == "" {
		program = "."
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	execScript := filepath.Join(filepath.Dir(self), "pulumi-language-python-exec")

	// An empty config is {} and no secret keys is [], never null: the SDK iterates both
	// (a stack with no config crashed in set_all_config on "null").
	configMap := req.GetConfig()
	if configMap == nil {
		configMap = map[string]string{}
	}
	config, err := json.Marshal(configMap)
	if err != nil {
		return nil, err
	}
	secretKeyList := req.GetConfigSecretKeys()
	if secretKeyList == nil {
		secretKeyList = []string{}
	}
	secretKeys, err := json.Marshal(secretKeyList)
	if err != nil {
		return nil, err
	}
	args := []string{
		"-u", execScript,
		"--monitor", req.GetMonitorAddress(),
		"--engine", h.engineAddress,
		"--project", req.GetProject(),
		"--stack", req.GetStack(),
		"--pwd", pwd,
		"--dry_run", strconv.FormatBool(req.GetDryRun()),
		"--parallel", strconv.Itoa(int(req.GetParallel())),
	}
	if req.GetOrganization() != "" {
		args = append(args, "--organization", req.GetOrganization())
	}
	if root != "" {
		args = append(args, "--root_directory", root)
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	cmd := exec.CommandContext(ctx, h.python(root), args...)
	cmd.Dir = pwd
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys),
		"PYTHONUNBUFFERED=1",
	)
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			// The SDK has already reported the program's error through the engine.
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("the Python program exited with code %d", exitErr.ExitCode()),
				Bail:  true,
			}, nil
		}
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

func main() {
	h := &host{}
	// The CLI passes flags (-root=..., -tracing=..., runtime options) and then the engine address.
	for _, a := range os.Args[1:] {
		switch {
		case strings.HasPrefix(a, "-root="):
			h.root = strings.TrimPrefix(a, "-root=")
		case !strings.HasPrefix(a, "-"):
			h.engineAddress = a
		}
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(400 * 1024 * 1024))
	pulumirpc.RegisterLanguageRuntimeServer(srv, h)
	fmt.Println(lis.Addr().(*net.TCPAddr).Port)
	if err := srv.Serve(lis); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}
