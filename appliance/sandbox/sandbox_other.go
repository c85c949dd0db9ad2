//go:build !linux

package sandbox

const unsupported = "only on Linux"

// Confine does nothing outside Linux; the Report says so.
func Confine() (Report, error) { return Probe(), nil }

// Probe reports that nothing can be confined outside Linux.
func Probe() Report { return Report{LandlockNote: unsupported, SeccompNote: unsupported} }
