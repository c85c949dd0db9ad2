package cgroups

import "strconv"

// CPUPeriod is the cpu.max period PiCloud uses: 100 ms, the kernel's default.
const CPUPeriod = 100_000

// CPUMax is a cpu.max setting: at most Quota microseconds of CPU time in
// every Period microseconds, over all the group's processes and cores.
type CPUMax struct {
	Quota, Period int64
}

// String is the value written to cpu.max ("300000 100000").
func (c CPUMax) String() string {
	return strconv.FormatInt(c.Quota, 10) + " " + strconv.FormatInt(c.Period, 10)
}

// WorkersCPU is the CPU all the workers together may use on a machine with
// cpus cores: every core but one, so that however many scripts spin, the
// daemon (which answers /healthz for the watchdog, and the admin API) and
// PostgreSQL keep a whole core; on a single core, 80 % of it. On a Pi Zero
// 2 W and a Pi 5 (four cores each) that is three cores: "300000 100000".
func WorkersCPU(cpus int) CPUMax {
	if cpus <= 1 {
		return CPUMax{Quota: CPUPeriod * 8 / 10, Period: CPUPeriod}
	}
	return CPUMax{Quota: int64(cpus-1) * CPUPeriod, Period: CPUPeriod}
}

// WorkerPids is each worker's pids.max. A worker is one Go process that
// starts no other: it runs one thread per core that executes Go code, plus
// one for each system call in progress, about a dozen in all on four cores.
// Scripts cannot start processes or threads; the cap stops a runaway worker
// from taking the board's process table, not anything a script does.
const WorkerPids = 64

// WorkerLimits are the limits of one worker's group.
type WorkerLimits struct {
	// MemoryMax is memory.max in bytes: the worker's memory ceiling
	// (PICLOUD_SANDBOX_MAX_MEMORY_MB). Past it the kernel reclaims what it
	// can, then ends the worker with its OOM killer. 0: no limit.
	MemoryMax int64
	// PidsMax is pids.max, the worker's tasks (threads count). 0: no limit.
	PidsMax int
}
