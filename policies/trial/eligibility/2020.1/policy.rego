package arbiter.trial.eligibility

import data.arbiter.trial.lib

# May this account order a free trial of this spec? A read: nothing is recorded (trial.order records).

decision := {
	"reasons": lib.reasons,
	"outputs": lib.outputs,
}
