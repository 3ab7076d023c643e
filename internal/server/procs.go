package server

// MinServerProcs is the fewest Ps (GOMAXPROCS) a server should run with.
//
// A put spends much of its time in blocking system calls: creating the file,
// fsyncing it and its directory. Each holds a P until the call returns or the
// runtime takes the P back, so on a machine with two cores two such calls
// leave every goroutine that is ready to run waiting, for milliseconds at a
// time. With more Ps than cores the ready goroutines run meanwhile:
// BenchmarkIputTree10k on two cores went from 1,460–2,200 files/s with 2 Ps
// to 2,300–2,900 with 8.
const MinServerProcs = 8

// ServerProcs is the GOMAXPROCS a server should use, given the runtime's
// current one: that, but at least MinServerProcs. On a machine with more
// cores nothing changes.
func ServerProcs(current int) int {
	return max(current, MinServerProcs)
}
