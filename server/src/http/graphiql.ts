import path from "node:path";
import express, { type Router } from "express";

/**
 * GraphiQL for browsers on `GET /graphql`, served from this server alone: Apollo's landing page
 * loads scripts from Apollo's CDN and fonts from Google, which a server without internet (or a
 * careful operator) cannot have. GraphiQL 4's prebuilt UMD bundle needs React 18's UMD files,
 * which the server keeps apart from the dashboard's React 19 (server/node_modules). The page and
 * its files are static and hold no data: the operations it sends need a token like any other.
 */
export function graphiqlRoutes(): Router {
  const router = express.Router();
  const files: Record<string, { file: string; type: string }> = {
    "react.js": { file: packageFile("react", "umd/react.production.min.js"), type: "text/javascript" },
    "react-dom.js": {
      file: packageFile("react-dom", "umd/react-dom.production.min.js"),
      type: "text/javascript",
    },
    "graphiql.js": { file: packageFile("graphiql", "dist/index.umd.js"), type: "text/javascript" },
    "graphiql.css": { file: packageFile("graphiql", "dist/style.css"), type: "text/css" },
  };

  // A plain middleware, not router.get("/graphql"): a route would also answer the CORS preflight
  // (OPTIONS /graphql) with Express's automatic "Allow: GET, HEAD", before cors() sees it.
  router.use((req, res, next) => {
    // Browsers navigating here; GraphQL GETs (a query parameter) and API clients go on to Apollo.
    if (req.method !== "GET" || req.path !== "/graphql" || Object.keys(req.query).length > 0) return next();
    if (req.accepts(["json", "html"]) !== "html") return next();
    res.status(200).type("html").setHeader("cache-control", "no-cache").send(PAGE);
  });
  router.get("/graphiql/start.js", (_req, res) => {
    res.status(200).type("text/javascript").setHeader("cache-control", "no-cache").send(START);
  });
  router.get("/graphiql/:name", (req, res, next) => {
    const entry = files[String(req.params.name)];
    if (!entry) return next();
    res.setHeader("cache-control", "public, max-age=3600");
    res.type(entry.type).sendFile(entry.file);
  });
  return router;
}

/** A file of an installed package (its exports do not list the UMD files). */
function packageFile(name: string, file: string): string {
  return path.join(path.dirname(require.resolve(`${name}/package.json`)), file);
}

/** The page: GraphiQL's files, all from this server. */
const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Sluice GraphQL</title>
    <link rel="stylesheet" href="/graphiql/graphiql.css" />
    <style>
      body {
        margin: 0;
        height: 100vh;
      }
      #graphiql {
        height: 100vh;
      }
    </style>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
    <script src="/graphiql/react.js"></script>
    <script src="/graphiql/react-dom.js"></script>
    <script src="/graphiql/graphiql.js"></script>
    <script src="/graphiql/start.js"></script>
  </body>
</html>
`;

/** Starts GraphiQL against this server's /graphql (a file of its own, so no inline script is needed). */
const START = `(function () {
  var fetcher = GraphiQL.createFetcher({ url: window.location.origin + "/graphql" });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultHeaders: JSON.stringify({ Authorization: "Bearer <your token>" }, null, 2),
      defaultEditorToolbarTabs: "headers",
      shouldPersistHeaders: false,
    }),
  );
})();
`;
