package engine

import (
	"github.com/dop251/goja"
)

// namedHandler finds the method name of the default export, the handler
// of a trigger other than a request (scheduled, queue, email, intercept);
// args is its parameters, for the error that says how to write one.
func namedHandler(def goja.Value, name, args string) (goja.Callable, *goja.Object, *ExecError) {
	if obj, ok := def.(*goja.Object); ok {
		if fn, ok := goja.AssertFunction(obj.Get(name)); ok {
			return fn, obj, nil
		}
	}
	return nil, nil, &ExecError{Code: CodeNoHandler, Message: "the default export has no " + name + " handler: " +
		"export default { async " + name + "(" + args + ") { ... } }"}
}

// callNamed calls the default export's method name as name(first, env,
// ctx) and awaits what it returns; args is its parameters, as for
// namedHandler. first is built only once the method is found.
func (e *execution) callNamed(def goja.Value, name, args string, first func() (goja.Value, error)) (goja.Value, *ExecError) {
	fn, obj, xe := namedHandler(def, name, args)
	if xe != nil {
		return nil, xe
	}
	arg, err := first()
	if err != nil {
		return nil, e.jsError(err)
	}
	ret, err := fn(obj, arg, e.newEnv(), e.newContextObject())
	if err != nil {
		return nil, e.jsError(err)
	}
	return e.await(ret)
}

// runNamed calls the default export's method name as callNamed does, for
// a trigger that has no response, then settles its ctx.waitUntil
// promises.
func (e *execution) runNamed(def goja.Value, name, args string, first func() (goja.Value, error)) *ExecError {
	if _, xe := e.callNamed(def, name, args, first); xe != nil {
		return xe
	}
	e.settleWaitUntil()
	return nil
}
