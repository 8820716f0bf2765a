package store

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestOpenPostgresQueryMode(t *testing.T) {
	cat := &Catalog{}
	tests := []struct {
		name string
		url  string
		want pgx.QueryExecMode
	}{
		{name: "default is safe behind a transaction pooler", url: "postgres://u@127.0.0.1:1/db", want: pgx.QueryExecModeExec},
		{name: "url chooses statement caching", url: "postgres://u@127.0.0.1:1/db?default_query_exec_mode=cache_statement", want: pgx.QueryExecModeCacheStatement},
		{name: "url chooses the simple protocol", url: "postgres://u@127.0.0.1:1/db?default_query_exec_mode=simple_protocol", want: pgx.QueryExecModeSimpleProtocol},
		{name: "keyword form", url: "host=127.0.0.1 port=1 user=u default_query_exec_mode=describe_exec", want: pgx.QueryExecModeDescribeExec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := OpenPostgres(context.Background(), tt.url, cat)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if got := p.Pool().Config().ConnConfig.DefaultQueryExecMode; got != tt.want {
				t.Fatalf("query mode %v, want %v", got, tt.want)
			}
		})
	}
}
