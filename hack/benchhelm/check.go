package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// checkCmd prints which of the drifted objects a drift -o json report (of
// sources) has as not unchanged, and what else it has; it fails unless
// they are exactly the drifted ones.
func checkCmd(args []string) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	dir := fs.String("dir", "", "gen's output directory")
	file := fs.String("drift", "", "drift's -o json report")
	before := fs.Bool("before", false, "taken before the hand edits: nothing may be reported")
	if err := fs.Parse(args); err != nil {
		return err
	}
	data, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	var rep struct {
		Sources []struct {
			Name, Status, Reason string
			Report               *struct {
				Objects []struct{ Kind, Namespace, Name, Status string }
			}
		}
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		return fmt.Errorf("%s: %w", *file, err)
	}
	found := map[string]string{}
	var errs []string
	for _, s := range rep.Sources {
		if s.Report == nil {
			errs = append(errs, s.Name+": "+s.Status+" "+s.Reason)
			continue
		}
		for _, o := range s.Report.Objects {
			if o.Status != "unchanged" {
				found[o.Kind+" "+o.Namespace+"/"+o.Name] = o.Status
			}
		}
	}
	if *before {
		return nothingFound(found, len(rep.Sources), errs)
	}
	return verdict(*dir, found, len(rep.Sources), errs)
}

// nothingFound prints what a report taken before the hand edits has that
// is not unchanged; it fails unless that is nothing.
func nothingFound(found map[string]string, sources int, errs []string) error {
	var got []string
	for k, st := range found {
		got = append(got, k+" ("+st+")")
	}
	sort.Strings(got)
	if len(got) == 0 && len(errs) == 0 {
		fmt.Printf("nothing reported, %d sources compared\n", sources)
		return nil
	}
	fmt.Printf("%d objects reported: %s; %d sources not compared: %s\n", len(got), strings.Join(got, ", "), len(errs), strings.Join(errs, "; "))
	return fmt.Errorf("drift reported before the hand edits")
}

// checkDiffCmd is check for the output of helm-diff.sh (kubectl diff's
// unified diffs, one "diff -u -N LIVE MERGED" header per object).
func checkDiffCmd(args []string) error {
	fs := flag.NewFlagSet("checkdiff", flag.ContinueOnError)
	dir := fs.String("dir", "", "gen's output directory")
	file := fs.String("diff", "", "kubectl diff's output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := os.Open(*file)
	if err != nil {
		return err
	}
	defer f.Close()
	found := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, "diff -u -N ") {
			continue
		}
		fields := strings.Fields(l)
		// <group.>version.Kind[.namespace].name: the kind is the first
		// part that begins with a capital letter (no name here has a dot).
		parts := strings.Split(filepath.Base(fields[len(fields)-1]), ".")
		for i, p := range parts {
			if p != "" && p[0] >= 'A' && p[0] <= 'Z' {
				rest := parts[i+1:]
				key := p + " /" + strings.Join(rest, ".")
				if len(rest) == 2 {
					key = p + " " + rest[0] + "/" + rest[1]
				}
				found[key] = "diff"
				break
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return verdict(*dir, found, 0, nil)
}

// verdict prints one line: how many of the drifted objects were found, by
// how they were drifted, and what was found that was not drifted.
func verdict(dir string, found map[string]string, sources int, errs []string) error {
	how, keys, err := readExpected(dir)
	if err != nil {
		return err
	}
	hit, byHow, missedBy := 0, map[string]int{}, map[string]int{}
	for _, k := range keys {
		if _, ok := found[k]; ok {
			hit++
			byHow[how[k]]++
		} else {
			missedBy[how[k]]++
		}
	}
	var extra []string
	for k := range found {
		if _, ok := how[k]; !ok {
			extra = append(extra, k+" ("+found[k]+")")
		}
	}
	sort.Strings(extra)
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d drifted objects", hit, len(keys))
	if len(missedBy) > 0 {
		fmt.Fprintf(&b, " (missed: %s)", counts(missedBy))
	}
	if len(extra) == 0 {
		b.WriteString(", nothing else")
	} else {
		fmt.Fprintf(&b, "; also %d others: %s", len(extra), strings.Join(extra, ", "))
	}
	if sources > 0 {
		fmt.Fprintf(&b, "; %d sources", sources)
	}
	if len(errs) > 0 {
		fmt.Fprintf(&b, "; %d not compared: %s", len(errs), strings.Join(errs, "; "))
	}
	fmt.Println(b.String())
	if hit != len(keys) || len(extra) > 0 || len(errs) > 0 {
		return fmt.Errorf("not exactly the drifted objects")
	}
	return nil
}

func counts(m map[string]int) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var out []string
	for _, k := range ks {
		out = append(out, fmt.Sprintf("%d %s", m[k], k))
	}
	return strings.Join(out, ", ")
}
