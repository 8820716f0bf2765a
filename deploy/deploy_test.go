package deploy_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"arbiter/internal/server"
)

// commands and flags of cmd/arbiter, read from its source: the run table's keys and every flag a
// command defines (fs.String("name", ...), fs.StringVar(&v, "name", ...), ...).
var (
	commandRe = regexp.MustCompile(`"([a-z-]+)":\s*cmd[A-Z]\w*`)
	flagRe    = regexp.MustCompile(`fs\.(?:Bool|String|Int|Int64|Duration|Float64|Var|BoolVar|StringVar|IntVar|Int64Var|DurationVar|Float64Var|Func)\((?:&?[\w.\[\]*]+,\s*)?"([a-z][a-z0-9-]*)"`)
	getenvRe  = regexp.MustCompile(`(?:os\.Getenv|os\.LookupEnv|getenv|env)\("([A-Z][A-Z0-9_]+)"`)
)

func cliNames(t *testing.T) (commands, flags map[string]bool) {
	t.Helper()
	commands, flags = map[string]bool{}, map[string]bool{}
	files, err := filepath.Glob(filepath.Join("..", "cmd", "arbiter", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range commandRe.FindAllStringSubmatch(string(src), -1) {
			commands[m[1]] = true
		}
		for _, m := range flagRe.FindAllStringSubmatch(string(src), -1) {
			flags[m[1]] = true
		}
	}
	if !commands["serve"] || !commands["migrate"] || !flags["addr"] {
		t.Fatalf("reading cmd/arbiter found commands %v and flags %v: the patterns no longer match the source", commands, flags)
	}
	return commands, flags
}

// checkArgs fails unless args (after the binary) start with a real command and use only real flags.
func checkArgs(t *testing.T, where string, args []string) {
	t.Helper()
	commands, flags := cliNames(t)
	if len(args) == 0 || !commands[args[0]] {
		t.Errorf("%s: %v does not start with an arbiter command", where, args)
		return
	}
	for _, a := range args[1:] {
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !flags[name] {
			t.Errorf("%s: flag %s is not defined by cmd/arbiter", where, a)
		}
	}
}

// checkEnv fails unless name is a variable the server reads.
func checkEnv(t *testing.T, where, name string) {
	t.Helper()
	if !slices.Contains(server.Variables, name) {
		t.Errorf("%s: %s is not a variable arbiter reads (server.Variables)", where, name)
	}
}

// TestVariablesListIsComplete: server.Variables names every variable the server and its telemetry read,
// so that the checks below compare the manifests with the code.
func TestVariablesListIsComplete(t *testing.T) {
	for _, dir := range []string{"internal/server", "internal/telemetry"} {
		files, _ := filepath.Glob(filepath.Join("..", dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range getenvRe.FindAllStringSubmatch(string(src), -1) {
				if !slices.Contains(server.Variables, m[1]) {
					t.Errorf("%s reads %s, missing from server.Variables", f, m[1])
				}
			}
		}
	}
}

type container struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Cmd   []string `yaml:"command"`
	Env   []struct {
		Name      string         `yaml:"name"`
		ValueFrom map[string]any `yaml:"valueFrom"`
	} `yaml:"env"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

type object struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Spec       struct {
		Template struct {
			Spec struct {
				TerminationGracePeriodSeconds int         `yaml:"terminationGracePeriodSeconds"`
				InitContainers                []container `yaml:"initContainers"`
				Containers                    []container `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

func manifests(t *testing.T) []object {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("kubernetes", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	var out []object
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		dec.KnownFields(false)
		for {
			var o object
			err := dec.Decode(&o)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
				t.Errorf("%s: a document without apiVersion, kind or metadata.name", f)
			}
			out = append(out, o)
		}
	}
	return out
}

func isArbiter(c container) bool { return strings.Contains(c.Image, "/arbiter:") }

func TestKubernetesManifests(t *testing.T) {
	objs := manifests(t)
	kinds := map[string]object{}
	var sawServer, sawMigrate bool
	for _, o := range objs {
		kinds[o.Kind] = o
		pod := o.Spec.Template.Spec
		for _, c := range append(append([]container{}, pod.InitContainers...), pod.Containers...) {
			if !isArbiter(c) {
				continue
			}
			where := o.Kind + "/" + o.Metadata.Name + "/" + c.Name
			if len(c.Cmd) > 0 {
				t.Errorf("%s: overrides the image's entrypoint", where)
			}
			checkArgs(t, where, c.Args)
			for _, e := range c.Env {
				checkEnv(t, where, e.Name)
			}
			switch c.Args[0] {
			case "serve":
				sawServer = true
				if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
					t.Errorf("%s: readiness probe must GET /readyz", where)
				}
				if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
					t.Errorf("%s: liveness probe must GET /healthz", where)
				}
				if i := slices.Index(c.Args, "--addr"); i < 0 || len(c.Args) <= i+1 || len(c.Ports) == 0 ||
					!strings.HasSuffix(c.Args[i+1], ":"+strconv.Itoa(c.Ports[0].ContainerPort)) {
					t.Errorf("%s: --addr %v does not listen on the container port %v", where, c.Args, c.Ports)
				}
				if pod.TerminationGracePeriodSeconds < 25 {
					t.Errorf("%s: terminationGracePeriodSeconds %d leaves no room for the drain and shutdown", where, pod.TerminationGracePeriodSeconds)
				}
			case "migrate":
				sawMigrate = o.Kind == "Job"
			}
		}
	}
	if !sawServer || !sawMigrate {
		t.Errorf("want a Deployment serving and a Job migrating (server %v, migrate job %v)", sawServer, sawMigrate)
	}
	for _, k := range []string{"Deployment", "Service", "Job", "Secret", "ConfigMap"} {
		if _, ok := kinds[k]; !ok {
			t.Errorf("no %s among the manifests", k)
		}
	}
	// The pooled URL must reach the sidecar, which must pool by transaction (what the code is tested for).
	ini := kinds["ConfigMap"].Data["pgbouncer.ini"]
	if !regexp.MustCompile(`(?m)^\s*pool_mode\s*=\s*transaction\s*$`).MatchString(ini) {
		t.Errorf("pgbouncer.ini does not pool by transaction")
	}
	port := regexp.MustCompile(`(?m)^\s*listen_port\s*=\s*(\d+)`).FindStringSubmatch(ini)
	if url := kinds["Secret"].StringData["url"]; port == nil || !strings.Contains(url, "127.0.0.1:"+port[1]+"/") {
		t.Errorf("the Secret's url %q does not go through the sidecar's listen_port %v", url, port)
	}
	if url := kinds["Secret"].StringData["url"]; strings.Contains(url, "default_query_exec_mode=cache") {
		t.Errorf("the pooled url %q turns statement caching back on", url)
	}
}

func TestSystemdUnit(t *testing.T) {
	f, err := os.Open(filepath.Join("systemd", "arbiter.service"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var execs int
	keys := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "[") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("arbiter.service: %q is not key=value", line)
			continue
		}
		keys[k] = true
		switch k {
		case "ExecStart", "ExecStartPre":
			fields := strings.Fields(v)
			if len(fields) > 0 && strings.HasSuffix(fields[0], "/arbiter") {
				execs++
				checkArgs(t, "arbiter.service "+k, fields[1:])
			}
			for _, m := range regexp.MustCompile(`\$\{(\w+)\}`).FindAllStringSubmatch(v, -1) {
				checkEnv(t, "arbiter.service "+k, m[1])
			}
		case "Environment":
			name, _, _ := strings.Cut(strings.Trim(v, `"`), "=")
			checkEnv(t, "arbiter.service", name)
		}
	}
	if execs != 2 {
		t.Errorf("want arbiter in ExecStartPre (migrate) and ExecStart (serve), found %d", execs)
	}
	for _, k := range []string{"KillSignal", "TimeoutStopSec", "EnvironmentFile"} {
		if !keys[k] {
			t.Errorf("arbiter.service has no %s", k)
		}
	}
	env, err := os.ReadFile(filepath.Join("systemd", "arbiter.env"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(env), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#"))
		name, _, ok := strings.Cut(line, "=")
		if ok && regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`).MatchString(strings.TrimSpace(name)) {
			checkEnv(t, "arbiter.env", strings.TrimSpace(name))
		}
	}
}
