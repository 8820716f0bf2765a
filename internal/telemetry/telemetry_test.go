package telemetry

import (
	"context"
	"testing"
)

func TestEnabled(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{name: "off by default", want: false},
		{name: "endpoint", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, want: true},
		{name: "traces endpoint", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, want: true},
		{name: "sdk disabled", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Enabled(func(k string) string { return tt.env[k] }); got != tt.want {
				t.Fatalf("Enabled %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSetupOffWithoutEndpoint(t *testing.T) {
	for _, k := range Variables {
		t.Setenv(k, "")
	}
	on, stop, err := Setup(context.Background())
	if err != nil || on {
		t.Fatalf("Setup: %v, %v", on, err)
	}
	if err := stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}
