// jp_bench.go: times go-jmespath in-process on the cases bench/jp_bench.c
// times, so the two are compared per operation in one run.
//
//	go run bench/jp_bench.go CASES.json
//
// bench/jmespath builds it against Debian's
// golang-github-jmespath-go-jmespath-dev (GOPATH=/usr/share/gocode,
// GO111MODULE=off: no network).  Kinds as in jp_bench.c: "parse"
// (jmespath.Compile), "interpret" and "indexed" (Search of a compiled
// expression: go-jmespath reads the document as encoding/json decoded it,
// once, which is what jp_bench.c's "indexed" matches with its index built
// once), "full" (Compile then Search).  Each case grows its round until it lasts
// 0.1 s, then runs three more and keeps the fastest (as jp_bench.c does);
// one line of JSON per case: {"name", "ns", "iters"}.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/jmespath/go-jmespath"
)

type benchCase struct {
	Name       string      `json:"name"`
	Kind       string      `json:"kind"`
	Expression string      `json:"expression"`
	Given      interface{} `json:"given"`
	PeerExpr   *string     `json:"peer_expression"`
	PeerGiven  interface{} `json:"peer_given"`
}

var sink interface{}

func round(c *benchCase, expr string, given interface{}, ce *jmespath.JMESPath, n int) (time.Duration, error) {
	t0 := time.Now()
	for i := 0; i < n; i++ {
		switch c.Kind {
		case "interpret", "indexed":
			r, err := ce.Search(given)
			if err != nil {
				return 0, err
			}
			sink = r
		case "parse":
			e, err := jmespath.Compile(expr)
			if err != nil {
				return 0, err
			}
			sink = e
		default:
			e, err := jmespath.Compile(expr)
			if err != nil {
				return 0, err
			}
			r, err := e.Search(given)
			if err != nil {
				return 0, err
			}
			sink = r
		}
	}
	return time.Since(t0), nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: jp_bench CASES.json")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var cases []benchCase
	if err := json.Unmarshal(data, &cases); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := range cases {
		c := &cases[i]
		expr, given := c.Expression, c.Given
		if c.PeerExpr != nil {
			expr, given = *c.PeerExpr, c.PeerGiven
		}
		ce, err := jmespath.Compile(expr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: does not compile: %v\n", c.Name, err)
			os.Exit(1)
		}
		var t, best time.Duration
		n, k := 100, 0
		for k < 4 {
			if t, err = round(c, expr, given, ce, n); err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", c.Name, err)
				os.Exit(1)
			}
			if k == 0 && t < 100*time.Millisecond && n < 100000000 {
				n *= 4
				continue
			}
			if k == 0 || t < best {
				best = t
			}
			k++
		}
		t = best
		name, _ := json.Marshal(c.Name)
		fmt.Printf("{\"name\": %s, \"ns\": %.1f, \"iters\": %d}\n", name,
			float64(t.Nanoseconds())/float64(n), n)
	}
}
