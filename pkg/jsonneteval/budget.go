package jsonneteval

import (
	"fmt"
	"time"
)

// The budget of one evaluation of repository Jsonnet. Argo CD's repo-server
// has none of its own (its pod's limits bound it); these are generous for
// the manifests of an application and far below what would hurt the
// machine or a long-running drift watch.
const (
	// MemoryBudget bounds the worker's data segment (RLIMIT_DATA, which
	// Go's heap lives in).
	MemoryBudget = 512 << 20
	// CPUBudget bounds the worker's processor time (RLIMIT_CPU).
	CPUBudget = 60 * time.Second
	// WallBudget bounds the evaluation's duration, so that a worker
	// blocked rather than busy is stopped too.
	WallBudget = 2 * time.Minute
	// OutputBudget bounds the JSON the worker may send back.
	OutputBudget = 64 << 20
	// MaxWorkers bounds the workers of one process running at once (drift
	// compares clusters and renders sources concurrently), so that the
	// memory budget of them all is MaxWorkers × MemoryBudget.
	MaxWorkers = 2
)

// Limits is a budget. The zero value of a field means its default above.
type Limits struct {
	Memory int64         `json:"memory,omitempty"`
	CPU    time.Duration `json:"cpu,omitempty"`
	Wall   time.Duration `json:"wall,omitempty"`
	Output int64         `json:"output,omitempty"`
}

func (l Limits) withDefaults() Limits {
	if l.Memory <= 0 {
		l.Memory = MemoryBudget
	}
	if l.CPU <= 0 {
		l.CPU = CPUBudget
	}
	if l.Wall <= 0 {
		l.Wall = WallBudget
	}
	if l.Output <= 0 {
		l.Output = OutputBudget
	}
	return l
}

// BudgetError is an evaluation stopped by its budget. Its message names
// the limit, never the Jsonnet.
type BudgetError struct {
	// Limit is "memory", "CPU", "time" or "output".
	Limit string
	Value string
}

func (e *BudgetError) Error() string {
	if e.Limit == "time" {
		return "exceeded the " + e.Value + " time budget"
	}
	return "exceeded the " + e.Value + " " + e.Limit + " budget"
}

func memoryBudget(l Limits) error {
	return &BudgetError{Limit: "memory", Value: fmt.Sprintf("%d MiB", l.Memory>>20)}
}

func cpuBudget(l Limits) error {
	return &BudgetError{Limit: "CPU", Value: l.CPU.String()}
}

func timeBudget(l Limits) error {
	return &BudgetError{Limit: "time", Value: l.Wall.String()}
}

func outputBudget(l Limits) error {
	return &BudgetError{Limit: "output", Value: fmt.Sprintf("%d MiB", l.Output>>20)}
}
