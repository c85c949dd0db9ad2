package migrations

// Test hooks for package migrations_test (which imports pgtest, which imports
// this package: the tests must live in the external package).
var (
	ApplyFS  = apply
	StatusFS = status
	Embedded = embedded
)
