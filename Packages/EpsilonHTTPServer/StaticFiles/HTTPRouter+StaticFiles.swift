extension HTTPRouter {
    /// Mounts `files` at `prefix` for GET (and HEAD): `PREFIX/**` serves the folder, and
    /// `PREFIX` itself redirects to `PREFIX/` (`"/"` mounts at the root). Literal, `:param`
    /// and `*` routes still win over the mount (the router orders literal > `:param` > `*` > `**`).
    ///
    /// ```swift
    /// try router.staticFiles("/assets", HTTPStaticFiles(root: "public/assets"))
    /// ```
    public mutating func staticFiles(_ prefix: String, _ files: HTTPStaticFiles) throws(HTTPRoutePatternError) {
        let base = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        try table.add(method: "GET", pattern: HTTPRoutePattern(base + "/**"), value: .staticFiles(files))
        if !base.isEmpty {
            let moved = HTTPFixedResponse(status: 301, fields: [("Location", base + "/")])
            try table.add(method: "GET", pattern: HTTPRoutePattern(base), value: .fixed(moved))
        }
    }
}

extension HTTPRouteTarget {
    /// A static-file mount: the catch-all's bytes are the path below the mount point.
    static func staticFiles(_ files: HTTPStaticFiles) -> HTTPRouteTarget {
        HTTPRouteTarget { head, parameters, sink, id in
            let rest = parameters.catchAll.map { UnsafeRawBufferPointer(rebasing: head.path[$0]) }
                ?? UnsafeRawBufferPointer(start: nil, count: 0)
            return files.respond(head, rest: rest, sink: sink, exchange: id)
        }
    }
}
