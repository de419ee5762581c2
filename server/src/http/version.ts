import express, { type Router } from "express";
import { VERSION } from "../version";
import { requirePermission, type RouteAuthorization } from "./authorize";

/** `GET /version`: the server's version and agent protocol versions, to a token allowed GetVersion. */
export function versionRoutes(auth: RouteAuthorization): Router {
  const router = express.Router();
  router.get("/version", requirePermission(auth, "GET /version"), (_req, res) => {
    res.status(200).json(VERSION);
  });
  return router;
}
