// The pages' Mustache templates. Every one starts with the QUILT_HTML content type, so `{{value}}` is escaped by
// `escapeHTML`; `{{{html}}}` takes HTML this module made itself (a metadata tree, sanitized Markdown). A page is
// written in pieces as it is worked out (the head first, rows as they come), so a template is a piece, not a page.
import Mustache

enum Templates {
    static let contentType = "QUILT_HTML"

    static let sources: [String: String] = [
        "head": """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · quilt serve</title><link rel="stylesheet" href="/-/style.css"></head>
        <body><header class="top"><a class="brand" href="/">quilt serve</a>{{#crumbs}}<span class="sep">/</span>\
        {{#href}}<a href="{{href}}">{{text}}</a>{{/href}}{{^href}}<span class="here">{{text}}</span>{{/href}}{{/crumbs}}</header>
        <main>

        """,
        "foot": """
        </main><footer>Read-only. Every byte shown or downloaded is checked against its hash first.</footer></body></html>

        """,
        "error": """
        <h1>{{status}}</h1><p class="error">{{message}}</p>{{#hint}}<p class="hint">{{hint}}</p>{{/hint}}<p><a href="/">All packages</a></p>

        """,
        "registry-head": """
        <section class="registry"><h2>{{slug}} <span class="url">{{url}}</span></h2>
        <table class="packages"><thead><tr><th>Package</th><th>Latest</th><th>Message</th><th>Date</th>\
        <th class="num">Entries</th><th class="num">Size</th></tr></thead><tbody>

        """,
        "registry-row": """
        <tr><td><a href="{{href}}">{{name}}</a></td><td>{{#hash}}<a class="hash" href="{{revisionHref}}" title="{{hash}}">{{short}}</a>{{/hash}}</td>\
        <td class="message">{{message}}</td><td>{{#date}}<time datetime="{{iso}}">{{date}}</time>{{/date}}</td>\
        <td class="num">{{files}}</td><td class="num" title="{{bytes}} bytes">{{size}}</td></tr>

        """,
        "registry-foot": """
        </tbody></table>{{#empty}}<p class="empty">No packages.</p>{{/empty}}{{#failure}}<p class="error">{{failure}}</p>{{/failure}}</section>

        """,
        "package": """
        <h1>{{name}}</h1>
        <p class="revision">Revision <code class="hash" title="{{topHash}}">{{short}}</code>{{#isLatest}} <span class="badge">latest</span>{{/isLatest}}\
        {{#date}} · <time datetime="{{iso}}">{{date}}</time>{{/date}} · <a href="{{revisionsHref}}">{{revisions}}</a>\
        {{#previousHref}} · <a href="{{previousHref}}">Compare with the previous revision</a>{{/previousHref}}</p>
        {{#message}}<p class="message">{{message}}</p>{{/message}}
        <dl class="facts"><dt>Entries</dt><dd>{{files}}</dd><dt>Size</dt><dd title="{{bytes}} bytes">{{size}}</dd>\
        <dt>Top hash</dt><dd><code>{{topHash}}</code></dd></dl>
        <div class="uri"><span class="label">Quilt+ URI</span><code class="copy">{{uri}}</code></div>
        {{#meta}}<section class="meta"><h2>Metadata</h2>{{{meta}}}</section>{{/meta}}
        {{#workflow}}<section class="meta"><h2>Workflow</h2>{{{workflow}}}</section>{{/workflow}}

        """,
        "readme": """
        <section class="readme"><h2>{{name}}</h2>{{#failure}}<p class="error">{{failure}}</p>{{/failure}}\
        {{#html}}<article class="markdown">{{{html}}}</article>{{/html}}</section>

        """,
        "directory": """
        <h1>{{title}}</h1>
        <dl class="facts"><dt>Files</dt><dd>{{files}}</dd><dt>Size</dt><dd title="{{bytes}} bytes">{{size}}</dd></dl>
        <div class="uri"><span class="label">Quilt+ URI</span><code class="copy">{{uri}}</code></div>
        {{#meta}}<section class="meta"><h2>Metadata</h2>{{{meta}}}</section>{{/meta}}

        """,
        "listing-head": """
        <section class="files"><h2>{{heading}}</h2><table class="listing"><thead><tr><th>Name</th>\
        <th class="num">Size</th><th class="num">Files</th></tr></thead><tbody>
        {{#parentHref}}<tr class="up"><td><a href="{{parentHref}}">../</a></td><td></td><td></td></tr>{{/parentHref}}

        """,
        "listing-row": """
        <tr class="{{kind}}"><td><a href="{{href}}">{{name}}</a></td><td class="num" title="{{bytes}} bytes">{{size}}</td>\
        <td class="num">{{files}}</td></tr>

        """,
        "listing-foot": """
        </tbody></table>{{#pages}}<p class="pages">{{first}}–{{last}} of {{total}}\
        {{#previousHref}} · <a href="{{previousHref}}" rel="prev">Previous</a>{{/previousHref}}\
        {{#nextHref}} · <a href="{{nextHref}}" rel="next">Next</a>{{/nextHref}}</p>{{/pages}}</section>

        """,
        "file": """
        <h1>{{name}}</h1>
        <p class="actions"><a class="button" href="{{downloadHref}}" download>Download</a> {{size}} ({{bytes}} bytes)</p>
        <dl class="facts"><dt>Logical key</dt><dd><code>{{key}}</code></dd><dt>Hash</dt><dd><code>{{hashType}} {{hash}}</code></dd>\
        <dt>Physical key</dt><dd><code>{{physicalKey}}</code></dd></dl>
        <div class="uri"><span class="label">Quilt+ URI</span><code class="copy">{{uri}}</code></div>
        {{#meta}}<section class="meta"><h2>Metadata</h2>{{{meta}}}</section>{{/meta}}
        <section class="preview"><h2>Preview</h2>{{#note}}<p class="note">{{note}}</p>{{/note}}\
        {{#failure}}<p class="error">{{failure}}</p>{{/failure}}{{{preview}}}</section>

        """,
        "revisions": """
        <h1>{{name}}: revisions</h1>
        <form class="compare" method="get" action="{{compareAction}}"><label>Compare <select name="from">\
        {{#options}}<option value="{{hash}}"{{#from}} selected{{/from}}>{{label}}</option>{{/options}}</select></label>\
        <label> with <select name="to">{{#options}}<option value="{{hash}}"{{#to}} selected{{/to}}>{{label}}</option>{{/options}}</select></label>\
        <button type="submit">Compare</button></form>
        <table class="revisions"><thead><tr><th>Date</th><th>Revision</th><th>Message</th><th></th></tr></thead><tbody>
        {{#rows}}<tr><td><time datetime="{{iso}}">{{date}}</time></td><td><a class="hash" href="{{href}}" title="{{hash}}">{{short}}</a>\
        {{#isLatest}} <span class="badge">latest</span>{{/isLatest}}</td><td class="message">{{message}}</td>\
        <td>{{#previousHref}}<a href="{{previousHref}}">Compare with previous</a>{{/previousHref}}</td></tr>
        {{/rows}}</tbody></table>{{#failure}}<p class="error">{{failure}}</p>{{/failure}}

        """,
        "compare": """
        <h1>{{name}}: compare</h1>
        <p class="revision">From <a class="hash" href="{{fromHref}}" title="{{from}}">{{fromShort}}</a>{{#fromMessage}} ({{fromMessage}}){{/fromMessage}} \
        to <a class="hash" href="{{toHref}}" title="{{to}}">{{toShort}}</a>{{#toMessage}} ({{toMessage}}){{/toMessage}}</p>
        <p class="summary"><span class="added">{{addedCount}} added</span>, <span class="modified">{{modifiedCount}} modified</span>, \
        <span class="deleted">{{deletedCount}} deleted</span></p>
        {{#groups}}<section class="changes {{kind}}"><h2>{{title}}</h2><ul class="keys">{{#keys}}<li><a href="{{href}}">{{key}}</a></li>{{/keys}}</ul>\
        {{#more}}<p class="note">and {{more}} more</p>{{/more}}</section>{{/groups}}
        <section class="meta-diff"><h2>Metadata</h2>{{#hasMetaChanges}}<table class="diff"><thead><tr><th>Field</th><th>From</th><th>To</th></tr></thead><tbody>\
        {{#metaChanges}}<tr class="{{kind}}"><td><code>{{path}}</code></td><td><code>{{old}}</code></td><td><code>{{new}}</code></td></tr>{{/metaChanges}}\
        </tbody></table>{{/hasMetaChanges}}{{^hasMetaChanges}}<p class="empty">The same metadata.</p>{{/hasMetaChanges}}</section>

        """,
    ]

    /// Every template, compiled once.
    static func library() throws -> MustacheLibrary {
        MustacheContentTypes.register(QuiltHTMLContentType(), named: contentType)
        var templates: [String: MustacheTemplate] = [:]
        for (name, source) in sources {
            templates[name] = try MustacheTemplate(string: "{{% CONTENT_TYPE: \(contentType)}}" + source)
        }
        return MustacheLibrary(templates: templates)
    }

    /// One template rendered with its context (nil: there is no such template): what pages and tests render through.
    static func render(_ library: MustacheLibrary, _ template: String, _ context: [String: Any]) -> String? {
        library.render(context, withTemplate: template)
    }
}
