package reports

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
)

// A Figure is a plot of a Markdown report, to be saved as its own SVG file.
type Figure struct {
	// Name is the file name, unique in the report: "s1-history.svg".
	Name string
	// SVG is the standalone SVG document.
	SVG []byte
}

// WriteMarkdown writes r as Markdown with the same headings, sentences and
// tables as the HTML report, and returns its plots, which the Markdown
// links as plotDir/NAME (plotDir is relative to the Markdown file, "" for
// the same directory); the caller saves them there. A plot that cannot be
// drawn is replaced by a sentence saying so. Output is deterministic.
func WriteMarkdown(w io.Writer, r *Report, plotDir string) ([]Figure, error) {
	return writeMarkdown(w, layout(r), plotDir, drawSVG)
}

func writeMarkdown(w io.Writer, d *doc, plotDir string, draw drawer) ([]Figure, error) {
	bw := bufio.NewWriter(w)
	var figs []Figure
	for i, b := range d.blocks {
		if i > 0 {
			bw.WriteString("\n")
		}
		switch b.kind {
		case headingBlock:
			fmt.Fprintf(bw, "%s %s\n", strings.Repeat("#", b.level), mdText(b.text))
		case paraBlock:
			fmt.Fprintf(bw, "%s\n", mdText(b.text))
		case noteBlock:
			fmt.Fprintf(bw, "> **Note:** %s\n", mdText(b.text))
		case listBlock:
			for _, it := range b.items {
				fmt.Fprintf(bw, "- %s\n", mdText(it))
			}
		case tableBlock:
			mdTable(bw, b.table)
		case detailsBlock:
			fmt.Fprintf(bw, "<details><summary>%s</summary>\n\n", esc(b.text))
			mdTable(bw, b.table)
			bw.WriteString("\n</details>\n")
		case figureBlock:
			f := b.fig
			svg, err := draw(f)
			if err != nil {
				fmt.Fprintf(bw, "> **Note:** the plot %q could not be drawn: %s\n", f.title, mdText(err.Error()))
				continue
			}
			name := f.id + ".svg"
			figs = append(figs, Figure{Name: name, SVG: svg})
			link := name
			if plotDir != "" {
				link = path.Join(plotDir, name)
			}
			fmt.Fprintf(bw, "![%s](%s)\n\n*%s*\n", mdText(f.title), link, mdText(f.caption))
		}
	}
	return figs, bw.Flush()
}

func mdTable(bw *bufio.Writer, t *table) {
	head := t.head
	if strings.Join(head, "") == "" {
		// Markdown tables need a header; a key-value table gets an empty
		// one.
		head = make([]string, len(t.head))
		for i := range head {
			head[i] = " "
		}
	}
	bw.WriteString("|")
	for _, h := range head {
		fmt.Fprintf(bw, " %s |", mdCell(h))
	}
	bw.WriteString("\n|")
	for i := range head {
		if i < len(t.numeric) && t.numeric[i] {
			bw.WriteString("---:|")
		} else {
			bw.WriteString("---|")
		}
	}
	bw.WriteString("\n")
	for _, row := range t.rows {
		bw.WriteString("|")
		for _, cl := range row {
			s := mdCell(cl.text)
			if cl.strong && s != "" {
				s = "**" + s + "**"
			}
			fmt.Fprintf(bw, " %s |", s)
		}
		bw.WriteString("\n")
	}
	if t.caption != "" {
		fmt.Fprintf(bw, "\n*%s*\n", mdText(t.caption))
	}
}

// mdText escapes the characters Markdown would read as emphasis or HTML,
// outside `code` spans, which pass through.
func mdText(s string) string {
	parts := strings.Split(s, "`")
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 && i < len(parts)-1 {
			b.WriteString("`" + p + "`")
			continue
		}
		if i%2 == 1 {
			b.WriteString("\\`")
		}
		b.WriteString(htmlStart.ReplaceAllString(mdReplacer.Replace(p), "&lt;$1"))
	}
	return b.String()
}

var mdReplacer = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`)

// htmlStart matches a "<" that Markdown could read as the start of HTML;
// "< 0.001" stays as it is.
var htmlStart = regexp.MustCompile(`<([A-Za-z/!?])`)

func mdCell(s string) string { return strings.ReplaceAll(mdText(s), "|", `\|`) }
