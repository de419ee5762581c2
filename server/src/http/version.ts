import express, { type Router } from "express";
import type { Authenticator } from "../auth/authenticate";
import { GET_VERSION } from "../auth/principal";
import { VERSION } from "../version";
import { requirePermission } from "./authorize";

/** `GET /version`: the server's version and agent protocol versions, to a token allowed GetVersion. */
export function versionRoutes(authenticator: Authenticator): Router {
  const router = express.Router();
  router.get("/version", requirePermission(authenticator, GET_VERSION), (_req, res) => {
    res.status(200).json(VERSION);
  });
  return router;
}
