package dashboard

import (
	"embed"
	"html/template"
)

// assets are the templates, the stylesheet and the optional script.
//
//go:embed templates/*.html static/*
var assets embed.FS

// pageNames are the page templates; each is parsed with the layout.
var pageNames = []string{"endpoints", "endpoint", "delivery", "simulate", "error", "events", "catalog"}

// parsePages parses each page together with the layout and partials.
func parsePages(funcs template.FuncMap) (map[string]*template.Template, error) {
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}
