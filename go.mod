module habox

go 1.26.0

require (
	github.com/pkg/term v1.1.0
	golang.org/x/sys v0.50.0
)
