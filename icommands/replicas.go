package icommands

import (
	"errors"
	"fmt"
	"io"

	"github.com/arca-data/arca/api/arcapb"
)

// changeStream is the answer of irepl, itrim and iphymv.
type changeStream interface {
	Recv() (*arcapb.ReplicaChange, error)
}

// printChanges prints every change of s (--json: one object a line) and
// returns an error when one of them failed.
func (a *app) printChanges(s changeStream, verbose bool) error {
	failed, denied := 0, 0
	for {
		ch, err := s.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if ch.Action == "failed" {
			failed++
			if ch.Denied {
				denied++
			}
		}
		if a.json {
			if err := a.printJSON(changeJSON(ch)); err != nil {
				return err
			}
			continue
		}
		switch ch.Action {
		case "failed":
			fmt.Fprintf(a.Err, "%s: %s\n", ch.Path, ch.Error)
		case "unchanged":
			if verbose {
				fmt.Fprintf(a.Out, "%s: unchanged\n", ch.Path)
			}
		case "trimmed":
			fmt.Fprintf(a.Out, "%s: trimmed replica %d on %s\n", ch.Path, ch.Replica, ch.Resource)
		default:
			fmt.Fprintf(a.Out, "%s: %s to %s (replica %d)\n", ch.Path, ch.Action, ch.Resource, ch.Replica)
		}
	}
	if denied > 0 {
		// A retention lock or legal hold refused: exit status 5.
		return exitError{code: ExitPolicy, err: fmt.Errorf("%d data object(s) failed, %d refused by a retention lock or legal hold", failed, denied)}
	}
	if failed > 0 {
		return fmt.Errorf("%d data object(s) failed", failed)
	}
	return nil
}

func changeJSON(ch *arcapb.ReplicaChange) map[string]any {
	reps := make([]map[string]any, len(ch.Replicas))
	for i, r := range ch.Replicas {
		reps[i] = map[string]any{"number": r.Number, "resource": r.Resource, "status": r.Status, "size": r.Size, "checksum": r.Checksum}
	}
	m := map[string]any{"path": ch.Path, "action": ch.Action, "resource": ch.Resource, "replica": ch.Replica, "replicas": reps}
	if ch.Error != "" {
		m["error"] = ch.Error
	}
	return m
}
