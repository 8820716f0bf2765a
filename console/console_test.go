package console_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"arbiter/console"
)

func serve(t *testing.T) *httptest.Server {
	t.Helper()
	r := chi.NewRouter()
	r.Mount("/console", console.Handler())
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

func TestHandler(t *testing.T) {
	srv := serve(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		name, method, path string
		status             int
		contentType        string
		location           string
		body               string
	}{
		{name: "the bare prefix redirects", method: "GET", path: "/console", status: http.StatusMovedPermanently, location: "/console/"},
		{name: "the index", method: "GET", path: "/console/", status: http.StatusOK, contentType: "text/html", body: `<nav class="mainnav" aria-label="Main">`},
		{name: "a module", method: "GET", path: "/console/js/app.js", status: http.StatusOK, contentType: "text/javascript", body: "routes"},
		{name: "the stylesheet", method: "GET", path: "/console/app.css", status: http.StatusOK, contentType: "text/css", body: ":focus-visible"},
		{name: "a missing file", method: "GET", path: "/console/nope.js", status: http.StatusNotFound},
		{name: "no writes", method: "POST", path: "/console/", status: http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.contentType != "" && !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.contentType) {
				t.Errorf("Content-Type %q, want %s", resp.Header.Get("Content-Type"), tt.contentType)
			}
			if tt.location != "" && resp.Header.Get("Location") != tt.location {
				t.Errorf("Location %q, want %q", resp.Header.Get("Location"), tt.location)
			}
			if tt.body != "" && !strings.Contains(string(body), tt.body) {
				t.Errorf("body lacks %q", tt.body)
			}
			if tt.status == http.StatusOK && !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
				t.Errorf("Content-Security-Policy %q", resp.Header.Get("Content-Security-Policy"))
			}
		})
	}
}

var importRE = regexp.MustCompile(`(?m)^import [^;]*? from "([^"]+)";|import\("([^"]+)"\)`)

// TestModulesResolve checks that every relative import of every module names an embedded file,
// so a renamed file fails here and not only in a browser.
func TestModulesResolve(t *testing.T) {
	files := console.Files()
	n := 0
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") {
			return err
		}
		src, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		for _, m := range importRE.FindAllStringSubmatch(string(src), -1) {
			spec := m[1] + m[2]
			if !strings.HasPrefix(spec, ".") {
				t.Errorf("%s imports %q: only relative modules are served", p, spec)
				continue
			}
			target := path.Join(path.Dir(p), spec)
			if _, err := fs.Stat(files, target); err != nil {
				t.Errorf("%s imports %q, which is not embedded (%s)", p, spec, target)
			}
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Errorf("found only %d imports; the pattern no longer matches the modules", n)
	}
}
