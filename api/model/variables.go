package model

import "time"

// Variable is one of an app's variables, which reach its scripts as
// env.NAME. A secret's value is kept only sealed (encrypted); Value is
// then empty.
type Variable struct {
	AppID     string
	Name      string
	Secret    bool
	Value     string // plain variables only
	Sealed    []byte // secrets only
	UpdatedAt time.Time
}
