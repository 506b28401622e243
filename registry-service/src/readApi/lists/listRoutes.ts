import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import { BITSTRING_PURPOSES, LIST_SIZE, type BitstringPurpose } from "../../core";
import { ErrorBody, ListIndexAnswer, Jwks } from "../../wire";
import { ApiError } from "../errors";
import { listPath, type ListFormat, type ListPublisher, type PublishedList } from "./listPublisher";

const ListParam = Type.String({
  pattern: "^[0-9]{1,9}$",
  description: `list number: list n covers indexes n * ${LIST_SIZE} .. (n + 1) * ${LIST_SIZE} - 1`,
});

/**
 * The standard status lists (docs/spec.md 7): the Token Status List (JWT, or CWT when asked for
 * application/statuslist+cwt) and the W3C revocation and suspension credentials, each signed, with
 * Cache-Control, ETag and 304 on If-None-Match, so that a CDN can carry them.
 */
export const listRoutes =
  (publisher: ListPublisher, options: { guard?: () => void } = {}): FastifyPluginAsyncTypebox =>
  async (app) => {
    const serve = async (request: FastifyRequest, reply: FastifyReply, list: number, format: ListFormat) => {
      options.guard?.();
      const published = publisher.publish(list, format);
      if (!published) {
        const count = publisher.count;
        throw new ApiError("NOT_FOUND", 404, `list ${list} is not published: lists 0 to ${count - 1} cover the indexes handed out`);
      }
      return send(request, reply, await published, publisher.settings.ttlSeconds);
    };
    await app.register(listIndexRoutes(publisher, options));
    app.get(
      "/lists/token/:list",
      {
        schema: {
          tags: ["verifier"],
          summary:
            "Token Status List (draft-ietf-oauth-status-list-20): statuslist+jwt, or statuslist+cwt when the Accept header asks for it",
          params: Type.Object({ list: ListParam }),
          response: { 404: ErrorBody },
        },
      },
      async (request, reply) => {
        const cwt = (request.headers.accept ?? "").includes("application/statuslist+cwt");
        reply.header("vary", "Accept");
        return serve(request, reply, Number(request.params.list), cwt ? "cwt" : "jwt");
      },
    );
    app.get(
      "/lists/bitstring/:purpose/:list",
      {
        schema: {
          tags: ["verifier"],
          summary: "W3C BitstringStatusListCredential (v1.0) for one purpose, secured as a VC-JOSE JWT (application/vc+jwt)",
          params: Type.Object({ purpose: Type.Union(BITSTRING_PURPOSES.map((purpose) => Type.Literal(purpose))), list: ListParam }),
          response: { 404: ErrorBody },
        },
      },
      async (request, reply) => serve(request, reply, Number(request.params.list), request.params.purpose as BitstringPurpose),
    );
  };

/** GET /lists (every list's URL and the anchor) and GET /lists/jwks (the public key). */
const listIndexRoutes =
  (publisher: ListPublisher, options: { guard?: () => void }): FastifyPluginAsyncTypebox =>
  async (app) => {
    const summary = "Every published list's URL, and the anchor they derive from";
    app.get("/lists", { schema: { tags: ["verifier"], summary, response: { 200: ListIndexAnswer } } }, async (_request, reply) => {
      options.guard?.();
      const { baseUrl, ttlSeconds } = publisher.settings;
      const lists = [...Array(publisher.count).keys()];
      const urls = (path: (list: number) => string) => lists.map((list) => baseUrl + path(list));
      reply.header("cache-control", `public, max-age=${ttlSeconds}`).header("access-control-allow-origin", "*");
      return {
        listSize: LIST_SIZE,
        anchor: publisher.anchor(),
        status_lists: urls(listPath.token),
        bitstring: {
          revocation: urls((list) => listPath.bitstring("revocation", list)),
          suspension: urls((list) => listPath.bitstring("suspension", list)),
        },
        jwks: `${baseUrl}/v1/lists/jwks`,
      };
    });
    const jwks = { tags: ["verifier"], summary: "The list-signing public key (pin it: do not trust it because this server sent it)" };
    app.get("/lists/jwks", { schema: { ...jwks, response: { 200: Jwks } } }, async () => ({
      keys: [publisher.settings.signer.publicJwk as Jwks["keys"][number]],
    }));
  };

/** The list with its caching headers, or 304 when the client holds this very version. */
function send(request: FastifyRequest, reply: FastifyReply, list: PublishedList, ttlSeconds: number) {
  reply
    .header("etag", list.etag)
    .header("cache-control", `public, max-age=${ttlSeconds}`)
    .header("access-control-allow-origin", "*")
    .header("x-anchored-batch", String(list.anchor.batch));
  const held = request.headers["if-none-match"];
  if (held && held.split(",").some((tag) => tag.trim().replace(/^W\//, "") === list.etag)) return reply.status(304).send();
  const body = typeof list.body === "string" ? list.body : Buffer.from(list.body);
  return reply.status(200).type(list.contentType).send(body);
}
