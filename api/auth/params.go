package auth

import "fmt"

// Params are argon2id cost parameters.
type Params struct {
	Memory      uint32 // m: memory in KiB
	Iterations  uint32 // t: passes over memory
	Parallelism uint8  // p: lanes
	SaltLen     uint32 // bytes of random salt for new hashes
	KeyLen      uint32 // bytes of derived key for new hashes
}

// DefaultParams suits a 512 MB Raspberry Pi Zero 2 W and follows the OWASP
// minimum for argon2id: 19 MiB, 2 passes, 1 lane, with a 16-byte salt and a
// 32-byte key. Treat it as a constant.
var DefaultParams = Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}

// Bounds on parameters, applied to configured ones and to those parsed from
// stored hashes, so that a corrupted hash cannot ask for gigabytes.
const (
	maxMemory  = 256 * 1024 // KiB
	maxIter    = 32
	maxThreads = 16
	minSalt    = 8
	maxSalt    = 64
	minKey     = 16
	maxKey     = 64
)

// Validate checks that p is usable for new hashes; use it when p comes from
// configuration. Its messages name the offending field.
func (p Params) Validate() error {
	if err := p.validateCost(); err != nil {
		return err
	}
	return p.validateLengths()
}

// validateCost checks the cost parameters, which also bound those parsed
// from stored hashes.
func (p Params) validateCost() error {
	switch {
	case p.Parallelism < 1 || p.Parallelism > maxThreads:
		return fmt.Errorf("argon2 parallelism %d out of range 1..%d", p.Parallelism, maxThreads)
	case p.Memory < 8*uint32(p.Parallelism) || p.Memory > maxMemory:
		return fmt.Errorf("argon2 memory %d KiB out of range %d..%d", p.Memory, 8*uint32(p.Parallelism), maxMemory)
	case p.Iterations < 1 || p.Iterations > maxIter:
		return fmt.Errorf("argon2 iterations %d out of range 1..%d", p.Iterations, maxIter)
	}
	return nil
}

func (p Params) validateLengths() error {
	switch {
	case p.SaltLen < minSalt || p.SaltLen > maxSalt:
		return fmt.Errorf("salt length %d out of range %d..%d", p.SaltLen, minSalt, maxSalt)
	case p.KeyLen < minKey || p.KeyLen > maxKey:
		return fmt.Errorf("key length %d out of range %d..%d", p.KeyLen, minKey, maxKey)
	}
	return nil
}
