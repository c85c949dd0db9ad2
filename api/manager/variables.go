package manager

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/picloud/picloud/api/model"
)

// Limits of app variables: they travel with every execution.
const (
	MaxVariableBytes = 8 << 10 // one value
	MaxVariables     = 100     // per app
)

var variableNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// Sealer seals and opens secret values (secrets.Box).
type Sealer interface {
	Seal(appID, name, value string) ([]byte, error)
	Open(appID, name string, sealed []byte) (string, error)
}

// ValidateVariableName checks a variable's name: an environment variable
// identifier (letters, digits and _, not starting with a digit), at most 64
// characters.
func ValidateVariableName(name string) error {
	if !variableNamePattern.MatchString(name) {
		return fmt.Errorf("%w: variable name %q must be 1-64 letters, digits or _, not starting with a digit", model.ErrInvalid, name)
	}
	return nil
}

// Variables lists an app's variables; secrets come without their value.
func (s *Service) Variables(ctx context.Context, appID string) ([]model.Variable, error) {
	if _, err := s.store.AppByID(ctx, appID); err != nil {
		return nil, err
	}
	vs, err := s.store.ListVariables(ctx, appID)
	for i := range vs {
		vs[i].Sealed = nil
	}
	return vs, err
}

// Variable returns one of an app's variables; a secret comes without its
// value.
func (s *Service) Variable(ctx context.Context, appID, name string) (model.Variable, error) {
	if ValidateVariableName(name) != nil {
		return model.Variable{}, fmt.Errorf("variable %q: %w", name, model.ErrNotFound)
	}
	v, err := s.store.VariableByName(ctx, appID, name)
	v.Sealed = nil
	return v, err
}

// SetVariable creates or replaces a variable of an app, a secret when
// secret is set: its value is sealed before it is stored, and neither
// returned nor logged. The app's scripts see the new value from their next
// execution on.
func (s *Service) SetVariable(ctx context.Context, a model.Actor, appID, name, value string, secret bool) (model.Variable, bool, error) {
	if err := ValidateVariableName(name); err != nil {
		return model.Variable{}, false, err
	}
	if len(value) > MaxVariableBytes {
		return model.Variable{}, false, fmt.Errorf("%w: the value is %d bytes; the limit is %d", model.ErrInvalid, len(value), MaxVariableBytes)
	}
	v := model.Variable{AppID: appID, Name: name, Secret: secret}
	if secret {
		if s.cfg.Secrets == nil {
			return model.Variable{}, false, errors.New("secrets cannot be sealed: the daemon has no secrets key")
		}
		sealed, err := s.cfg.Secrets.Seal(appID, name, value)
		if err != nil {
			return model.Variable{}, false, err
		}
		v.Sealed = sealed
	} else {
		v.Value = value
	}
	var out model.Variable
	var created bool
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		if _, err := s.store.AppByID(ctx, appID); err != nil {
			return err
		}
		n, err := s.store.CountVariables(ctx, appID)
		if err != nil {
			return err
		}
		if out, created, err = s.store.PutVariable(ctx, v); err != nil {
			return err
		}
		if created && n >= MaxVariables {
			return fmt.Errorf("%w: an app has at most %d variables", model.ErrInvalid, MaxVariables)
		}
		return s.audit(ctx, a, "variable.set", appID, name, map[string]any{"secret": secret, "created": created})
	})
	if err != nil {
		return model.Variable{}, false, err
	}
	s.inval.Invalidate()
	s.log.Info("variable set", "app", appID, "name", name, "secret", secret, "user", a.Username)
	out.Sealed = nil
	return out, created, nil
}

// DeleteVariable removes one of an app's variables.
func (s *Service) DeleteVariable(ctx context.Context, a model.Actor, appID, name string) error {
	if ValidateVariableName(name) != nil {
		return fmt.Errorf("variable %q: %w", name, model.ErrNotFound)
	}
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		if err := s.store.DeleteVariable(ctx, appID, name); err != nil {
			return err
		}
		return s.audit(ctx, a, "variable.delete", appID, name, nil)
	})
	if err != nil {
		return err
	}
	s.inval.Invalidate()
	s.log.Info("variable deleted", "app", appID, "name", name, "user", a.Username)
	return nil
}
