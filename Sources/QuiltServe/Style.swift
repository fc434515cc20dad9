// The one stylesheet (served from this server: the pages' policy refuses inline styles).
enum Style {
    static let css = """
    :root { --ink: #1d2430; --muted: #5d6778; --line: #dde2ea; --soft: #f4f6f9; --accent: #2f5fb3; --add: #1f7a3d;
      --del: #b3261e; --mod: #8a5a00; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
      color: var(--ink); background: #fff; }
    header.top { display: flex; flex-wrap: wrap; align-items: baseline; gap: .35em; padding: .7em 1.5em;
      background: var(--soft); border-bottom: 1px solid var(--line); }
    header.top a { color: var(--accent); text-decoration: none; }
    header.top .brand { font-weight: 700; color: var(--ink); margin-right: .4em; }
    header.top .sep { color: var(--muted); }
    header.top .here { font-weight: 600; }
    main { max-width: 1200px; margin: 0 auto; padding: 1em 1.5em 3em; }
    footer { max-width: 1200px; margin: 0 auto; padding: 1em 1.5em; color: var(--muted); font-size: 13px;
      border-top: 1px solid var(--line); }
    h1 { font-size: 1.6em; margin: .4em 0 .3em; word-break: break-word; }
    h2 { font-size: 1.15em; margin: 1.4em 0 .5em; }
    h2 .url { font-weight: 400; color: var(--muted); font-size: .85em; margin-left: .5em; }
    a { color: var(--accent); }
    a:not([href]) { color: inherit; }
    code, pre, .hash { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .92em; }
    table { border-collapse: collapse; width: 100%; }
    th, td { text-align: left; padding: .35em .6em; border-bottom: 1px solid var(--line); vertical-align: top; }
    th { background: var(--soft); font-weight: 600; }
    td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
    td.message { color: var(--muted); max-width: 32em; word-break: break-word; }
    table.listing td:first-child { word-break: break-all; }
    tr.directory td:first-child a { font-weight: 600; }
    .badge { display: inline-block; padding: 0 .45em; border-radius: .6em; background: #e3ecfb; color: var(--accent);
      font-size: .8em; font-weight: 600; }
    p.revision, p.summary { color: var(--muted); }
    p.message { font-size: 1.05em; }
    dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; margin: .8em 0; }
    dl.facts dt { color: var(--muted); }
    dl.facts dd { margin: 0; word-break: break-all; }
    .uri { margin: .8em 0; display: flex; gap: .6em; align-items: baseline; flex-wrap: wrap; }
    .uri .label { color: var(--muted); }
    code.copy { user-select: all; padding: .2em .5em; background: var(--soft); border: 1px solid var(--line);
      border-radius: 4px; word-break: break-all; }
    ul.tree, ol.tree { margin: .2em 0 .2em 1.2em; padding: 0; }
    ul.tree { list-style: none; }
    ul.tree li, ol.tree li { margin: .1em 0; }
    .tree .key { font-weight: 600; }
    .tree .key::after { content: ":"; }
    code.value.string { color: #0b6e4f; }
    code.value.number { color: #7a3e9d; }
    code.value.bool, code.value.null { color: var(--del); }
    section.readme article, article.markdown { border: 1px solid var(--line); border-radius: 6px; padding: .2em 1.2em; }
    article.markdown img { max-width: 100%; }
    article.markdown pre, pre.text, pre.json { background: var(--soft); padding: .8em; overflow: auto;
      border-radius: 4px; white-space: pre-wrap; word-break: break-word; }
    .scroll { overflow: auto; max-height: 70vh; border: 1px solid var(--line); }
    table.data td, table.data th { white-space: nowrap; font-size: .92em; }
    p.image img { max-width: 100%; border: 1px solid var(--line); background:
      repeating-conic-gradient(#eee 0 25%, #fff 0 50%) 0 0 / 16px 16px; }
    .error { color: var(--del); font-weight: 600; }
    .hint, .note, .empty { color: var(--muted); }
    a.button { display: inline-block; padding: .35em .9em; border-radius: 4px; background: var(--accent); color: #fff;
      text-decoration: none; font-weight: 600; margin-right: .6em; }
    p.pages { color: var(--muted); }
    form.compare { margin: .8em 0 1.2em; display: flex; flex-wrap: wrap; gap: .6em; align-items: center; }
    form.compare select { max-width: 28em; }
    .added, section.added h2, tr.added { color: var(--add); }
    .deleted, section.deleted h2, tr.removed { color: var(--del); }
    .modified, section.modified h2, tr.changed { color: var(--mod); }
    ul.keys { columns: 2 24em; padding-left: 1.2em; }
    ul.keys li { word-break: break-all; }
    table.diff code { word-break: break-all; }
    """
}
