package cli

// wrapped is an error with context, like fmt.Errorf("%s: %w", ctx, err)
// without linking fmt.
type wrapped struct {
	ctx string
	err error
}

func (w *wrapped) Error() string { return w.ctx + ": " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }

// Wrap returns err prefixed with ctx ("ctx: err"); errors.Is and errors.As
// see through it. Wrap(ctx, nil) is nil.
func Wrap(ctx string, err error) error {
	if err == nil {
		return nil
	}
	return &wrapped{ctx: ctx, err: err}
}
