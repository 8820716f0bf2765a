// Package deploy holds what a team needs to run arbiter as a fleet: a systemd unit and Kubernetes
// manifests (systemd/, kubernetes/); its test keeps them in step with the code's flags and variables.
package deploy
