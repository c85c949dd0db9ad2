package engine

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/dop251/goja"
)

// jsError converts an error from goja into an ExecError.
func (e *execution) jsError(err error) *ExecError {
	var ie *goja.InterruptedError
	var so *goja.StackOverflowError
	var ex *goja.Exception
	switch {
	case errors.As(err, &ie):
		xe := e.stopError()
		xe.Line, xe.Column = framePosition(ie.Stack())
		xe.Stack = stackText(xe.Message, ie.Stack())
		return xe
	case errors.As(err, &so):
		xe := &ExecError{Code: CodeStackLimit, Message: fmt.Sprintf(
			"calls nested deeper than the limit of %d (RangeError: Maximum call stack size exceeded)", e.lim.MaxCallDepth)}
		frames := so.Stack()
		xe.Line, xe.Column = framePosition(frames)
		if len(frames) > 10 {
			frames = frames[:10]
		}
		xe.Stack = stackText(xe.Message, frames)
		return xe
	case errors.As(err, &ex):
		return e.thrownError(ex.Value(), ex.Stack())
	}
	return &ExecError{Code: CodeInternal, Message: err.Error()}
}

// isScriptError reports errors raised by script code (or its limits) as
// goja panics.
func isScriptError(err error) bool {
	var ie *goja.InterruptedError
	var so *goja.StackOverflowError
	var ex *goja.Exception
	return errors.As(err, &ie) || errors.As(err, &so) || errors.As(err, &ex)
}

// stopError says why the execution was stopped. Only call it once stop
// was called (done is closed).
func (e *execution) stopError() *ExecError {
	<-e.done
	if xe, ok := e.cause.(*ExecError); ok {
		c := *xe
		return &c
	}
	if errors.Is(e.cause, context.Canceled) {
		return &ExecError{Code: CodeCanceled, Message: "execution canceled by the caller"}
	}
	return &ExecError{Code: CodeTimeLimit,
		Message: "script exceeded the wall-time limit of " + e.lim.WallTime.String()}
}

// thrownError describes an uncaught exception or a rejection value. frames
// is the stack of the throw, if known.
func (e *execution) thrownError(v goja.Value, frames []goja.StackFrame) *ExecError {
	xe := &ExecError{Code: CodeException}
	obj, isObj := v.(*goja.Object)
	if isObj && obj.ClassName() == "Error" {
		xe.Message = e.errorText(obj)
		if st := e.safeGet(obj, "stack"); st != nil && goja.IsString(st) {
			xe.Stack = st.String()
		}
	} else {
		xe.Message = "Uncaught " + e.describeThrown(v)
	}
	xe.Line, xe.Column = framePosition(frames)
	if xe.Line == 0 && xe.Stack != "" {
		xe.Line, xe.Column = stackPosition(xe.Stack)
	}
	if xe.Stack == "" {
		xe.Stack = stackText(xe.Message, frames)
	}
	return xe
}

// stackText formats a stack like goja's Error.stack; "" without frames.
func stackText(msg string, frames []goja.StackFrame) string {
	if len(frames) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(msg)
	for i := range frames {
		b.WriteString("\n\tat ")
		writeFrame(&b, &frames[i])
	}
	return b.String()
}

// describeThrown formats a thrown value, never failing.
func (e *execution) describeThrown(v goja.Value) (s string) {
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(*goja.Exception); !ok {
				panic(p)
			}
			s = "exception"
		}
	}()
	if goja.IsString(v) {
		return v.String()
	}
	if obj, ok := v.(*goja.Object); ok && obj.ClassName() == "Error" {
		return e.errorText(obj)
	}
	return e.formatValue(v)
}

// safeGet reads a property that may run script code (a getter): nothing
// once the execution is stopped or broken, nil if the getter throws.
func (e *execution) safeGet(obj *goja.Object, key string) (v goja.Value) {
	if e.broken || e.stopped() {
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(*goja.Exception); !ok {
				panic(p)
			}
			v = nil
		}
	}()
	return obj.Get(key)
}

// errorText is "Name: message" for an error object.
func (e *execution) errorText(obj *goja.Object) string {
	name, msg := "Error", ""
	if v := e.safeGet(obj, "name"); v != nil && !goja.IsUndefined(v) {
		name = v.String()
	}
	if v := e.safeGet(obj, "message"); v != nil && !goja.IsUndefined(v) {
		msg = v.String()
	}
	if msg == "" {
		return name
	}
	if name == "" {
		return msg
	}
	return name + ": " + msg
}

// isSourceFile reports whether a stack position is in the script's source.
func isSourceFile(name string) bool {
	return name == sourceNameJS || name == sourceNameTS
}

// framePosition returns the first position in the script's source.
func framePosition(frames []goja.StackFrame) (int, int) {
	for i := range frames {
		p := frames[i].Position()
		if isSourceFile(p.Filename) {
			return p.Line, p.Column
		}
	}
	return 0, 0
}

var stackPosRE = regexp.MustCompile(`(script\.(?:js|ts)):(\d+):(\d+)`)

// stackPosition finds the first script position in a JS stack string.
func stackPosition(stack string) (int, int) {
	if i := strings.Index(stack, "\n\tat "); i >= 0 {
		stack = stack[i:] // frames only, not the message
	}
	m := stackPosRE.FindStringSubmatch(stack)
	if m == nil {
		return 0, 0
	}
	line, _ := strconv.Atoi(m[2])
	col, _ := strconv.Atoi(m[3])
	return line, col
}

func writeFrame(b *strings.Builder, f *goja.StackFrame) {
	name := f.FuncName()
	p := f.Position()
	if p.Filename == "" {
		b.WriteString(name)
		return
	}
	if name != "" && name != "<anonymous>" {
		b.WriteString(name)
		b.WriteString(" (")
	}
	b.WriteString(p.Filename)
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(p.Line))
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(p.Column))
	if name != "" && name != "<anonymous>" {
		b.WriteByte(')')
	}
}
