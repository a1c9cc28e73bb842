package reports

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
	"regexp"
	"strings"
)

// WriteHTML writes r as one self-contained HTML page: styles, plots (inline
// SVG) and a small self-check script are all in the file, which loads
// nothing from anywhere, so it can be mailed or opened offline. Output is
// deterministic: the same report gives the same bytes.
func WriteHTML(w io.Writer, r *Report) error {
	return writeHTML(w, layout(r), drawSVG)
}

func writeHTML(w io.Writer, d *doc, draw drawer) error {
	bw := bufio.NewWriter(w)
	title := ""
	if len(d.blocks) > 0 && d.blocks[0].kind == headingBlock {
		title = d.blocks[0].text
	}
	fmt.Fprintf(bw, `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="goalsearch report">
<title>%s</title>
<script>
// Self-check: count script errors, so that a test (or a curious reader)
// can see whether the page rendered cleanly.
window.addEventListener("error", function () {
  var b = document.documentElement;
  b.setAttribute("data-errors", String(Number(b.getAttribute("data-errors") || "0") + 1));
});
</script>
<style>
%s</style>
</head>
<body>
`, esc(title), css)
	bw.WriteString("<main>\n")
	for i, b := range d.blocks {
		if i == 1 {
			// The contents follow the title.
			writeTOC(bw, d)
		}
		switch b.kind {
		case headingBlock:
			fmt.Fprintf(bw, "<h%d id=\"%s\">%s</h%d>\n", b.level, esc(b.id), inline(b.text), b.level)
		case paraBlock:
			fmt.Fprintf(bw, "<p>%s</p>\n", inline(b.text))
		case noteBlock:
			fmt.Fprintf(bw, "<p class=\"note\">%s</p>\n", inline(b.text))
		case listBlock:
			bw.WriteString("<ul>\n")
			for _, it := range b.items {
				fmt.Fprintf(bw, "<li>%s</li>\n", inline(it))
			}
			bw.WriteString("</ul>\n")
		case tableBlock:
			htmlTable(bw, b.table)
		case detailsBlock:
			fmt.Fprintf(bw, "<details>\n<summary>%s</summary>\n", inline(b.text))
			htmlTable(bw, b.table)
			bw.WriteString("</details>\n")
		case figureBlock:
			f := b.fig
			fmt.Fprintf(bw, "<figure id=\"fig-%s\" data-plot=\"%s\">\n", esc(f.id), esc(f.id))
			svg, err := draw(f)
			if err != nil {
				fmt.Fprintf(bw, "<p class=\"note\">The plot could not be drawn: %s</p>\n", esc(err.Error()))
			} else {
				// Inline SVG needs no namespace declarations in HTML; without
				// them the page holds no address at all.
				s := svgNamespaces.ReplaceAllString(string(svg), "")
				s = strings.Replace(s, "<svg ", fmt.Sprintf("<svg class=\"plot\" role=\"img\" aria-label=\"%s\" ", esc(f.title)), 1)
				bw.WriteString(s)
			}
			fmt.Fprintf(bw, "<figcaption>%s</figcaption>\n</figure>\n", inline(f.caption))
		}
	}
	bw.WriteString("</main>\n<footer>Made by <code>goalsearch report</code> from the study store. Every number is computed from the stored trials; nothing on this page is loaded from elsewhere.</footer>\n")
	bw.WriteString(selfCheck)
	bw.WriteString("</body>\n</html>\n")
	return bw.Flush()
}

// writeTOC lists the level-2 and level-3 headings.
func writeTOC(bw *bufio.Writer, d *doc) {
	bw.WriteString("<nav>\n<p>Contents</p>\n<ul>\n")
	open := false
	for _, b := range d.blocks {
		if b.kind != headingBlock || b.level < 2 || b.level > 3 {
			continue
		}
		if b.level == 2 {
			if open {
				bw.WriteString("</ul></li>\n")
				open = false
			}
			fmt.Fprintf(bw, "<li><a href=\"#%s\">%s</a>", esc(b.id), inline(b.text))
			bw.WriteString("<ul>\n")
			open = true
			continue
		}
		fmt.Fprintf(bw, "<li><a href=\"#%s\">%s</a></li>\n", esc(b.id), inline(b.text))
	}
	if open {
		bw.WriteString("</ul></li>\n")
	}
	bw.WriteString("</ul>\n</nav>\n")
}

func htmlTable(bw *bufio.Writer, t *table) {
	bw.WriteString("<div class=\"table\"><table>\n")
	if t.caption != "" {
		fmt.Fprintf(bw, "<caption>%s</caption>\n", inline(t.caption))
	}
	if strings.Join(t.head, "") != "" {
		bw.WriteString("<thead><tr>")
		for i, h := range t.head {
			fmt.Fprintf(bw, "<th%s>%s</th>", numClass(t, i), inline(h))
		}
		bw.WriteString("</tr></thead>\n")
	}
	bw.WriteString("<tbody>\n")
	for _, row := range t.rows {
		bw.WriteString("<tr>")
		for i, cl := range row {
			attr := numClass(t, i)
			if !math.IsNaN(cl.heat) {
				attr += fmt.Sprintf(" style=\"background:%s\"", heatColor(cl.heat))
			}
			text := inline(cl.text)
			if cl.strong {
				text = "<strong>" + text + "</strong>"
			}
			fmt.Fprintf(bw, "<td%s>%s</td>", attr, text)
		}
		bw.WriteString("</tr>\n")
	}
	bw.WriteString("</tbody>\n</table></div>\n")
}

func numClass(t *table, i int) string {
	if i < len(t.numeric) && t.numeric[i] {
		return " class=\"num\""
	}
	return ""
}

// heatColor maps a weight in [-1, 1] to a light background: blue for
// negative, red for positive, white at 0 (light enough for black text).
func heatColor(h float64) string {
	h = math.Max(-1, math.Min(1, h))
	to := [3]float64{0xf4, 0x9a, 0x84} // light red
	if h < 0 {
		to = [3]float64{0x8d, 0xb0, 0xfe} // light blue
	}
	a := math.Abs(h)
	var rgb [3]int
	for i := range rgb {
		rgb[i] = int(math.Round(255 + (to[i]-255)*a))
	}
	return fmt.Sprintf("#%02x%02x%02x", rgb[0], rgb[1], rgb[2])
}

var svgNamespaces = regexp.MustCompile(`\s*xmlns(:xlink)?="[^"]*"`)

func esc(s string) string { return html.EscapeString(s) }

// inline escapes text and turns `code` spans into <code> elements, the one
// markup the layout uses.
func inline(s string) string {
	parts := strings.Split(s, "`")
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 && i < len(parts)-1 {
			b.WriteString("<code>" + esc(p) + "</code>")
			continue
		}
		if i%2 == 1 {
			b.WriteString("`")
		}
		b.WriteString(esc(p))
	}
	return b.String()
}

const css = `:root { color-scheme: light; }
body { font-family: "Liberation Sans", Arial, Helvetica, sans-serif; color: #1a1a1a; background: #fff; margin: 0; line-height: 1.45; font-size: 15px; }
main { max-width: 1100px; margin: 0 auto; padding: 1rem 2rem 3rem; }
nav { font-size: 13px; color: #444; border: 1px solid #ddd; background: #fafafa; padding: 0.4rem 1rem; margin: 0.8rem 0; }
nav p { margin: 0.2rem 0; font-weight: 600; }
nav > ul { columns: 2; margin: 0; padding-left: 1.2rem; }
nav ul ul { padding-left: 1rem; }
nav a { color: #0b5394; text-decoration: none; }
h1 { font-size: 1.7rem; margin: 1rem 0 0.5rem; }
h2 { font-size: 1.35rem; margin-top: 2.5rem; padding-bottom: 0.2rem; border-bottom: 2px solid #0072b2; }
h3 { font-size: 1.1rem; margin-top: 1.8rem; }
h4 { font-size: 1rem; margin-top: 1.4rem; color: #333; }
p.note { background: #fff7e0; border-left: 4px solid #e69f00; padding: 0.4rem 0.8rem; }
code { font-family: "Liberation Mono", "Courier New", monospace; font-size: 0.92em; background: #f2f2f2; padding: 0 0.2em; }
div.table { overflow-x: auto; margin: 0.8rem 0; }
table { border-collapse: collapse; font-size: 13px; }
caption { caption-side: bottom; text-align: left; font-size: 12px; color: #555; padding-top: 0.3rem; }
th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #ddd; text-align: left; white-space: nowrap; }
th { border-bottom: 2px solid #999; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:hover { background: #f6f9fc; }
figure { margin: 1rem 0 1.5rem; }
figure svg.plot { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 12.5px; color: #444; max-width: 60rem; margin-top: 0.3rem; }
details { margin: 0.5rem 0 1rem; }
summary { cursor: pointer; color: #0b5394; font-size: 13px; }
footer { max-width: 1100px; margin: 0 auto; padding: 1rem 2rem 2rem; font-size: 12px; color: #666; border-top: 1px solid #ddd; }
@media print { nav { display: none; } h2 { break-before: page; } figure, table { break-inside: avoid; } }
`

// selfCheck marks on the root element how many plots there are
// (data-plots) and how many have a drawn, visible SVG with text in it
// (data-plots-ok), naming the others (data-plots-bad).
const selfCheck = `<script>
(function () {
  var root = document.documentElement, figs = document.querySelectorAll("figure[data-plot]"), ok = 0, bad = [];
  for (var i = 0; i < figs.length; i++) {
    var svg = figs[i].querySelector("svg"), good = false;
    if (svg) {
      var box = svg.getBBox(), rect = svg.getBoundingClientRect();
      good = box.width > 10 && box.height > 10 && rect.width > 10 && rect.height > 10 && svg.querySelectorAll("text").length > 0;
    }
    if (good) { ok++; } else { bad.push(figs[i].getAttribute("data-plot")); }
  }
  root.setAttribute("data-plots", String(figs.length));
  root.setAttribute("data-plots-ok", String(ok));
  if (bad.length) { root.setAttribute("data-plots-bad", bad.join(" ")); }
  if (!root.hasAttribute("data-errors")) { root.setAttribute("data-errors", "0"); }
})();
</script>
`
