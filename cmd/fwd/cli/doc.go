// Package cli holds the fwd command's commands, built with cobra. Run is
// the whole program: main only calls it with a context that signals cancel.
//
// Each command is made by a constructor (newLabCmd, newVersionCmd, ...)
// that takes the options it shares with its parent, keeps its own flags in
// an options struct, and writes to the command's output streams, so that
// tests run commands in-process and read what they print. The package has
// no globals.
package cli
