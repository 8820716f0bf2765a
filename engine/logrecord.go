package engine

import (
	"encoding/json"
	"errors"
	"fmt"

	"arbiter/engine/value"
	"arbiter/store"
)

// logRecord encodes a stored commit's decision-log record: its answer as the envelope, the input and
// facts it was decided on, and who asked.
func logRecord(d *Decision, answer json.RawMessage, input any, facts map[string]any, caller string) (*store.LogRecord, error) {
	in, err1 := value.Marshal(input)
	fs, err2 := value.Marshal(facts)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("encode the log record of %s: %w", d.DecisionID, err)
	}
	return &store.LogRecord{
		ID: d.DecisionID, Decision: d.Decision, Version: d.Policy.Version, Outcome: d.Outcome, AsOf: d.AsOf,
		Caller: caller, Envelope: answer, Input: in, Facts: fs,
	}, nil
}
