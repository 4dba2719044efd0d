// OpenAI's Files and Batch APIs and Loom's background requests, each with the schema its handler parses.
import { BackgroundRequest, ListQuery as BatchListQuery, CreateBatchRequest } from "../openai/batches.js";
import { ListQuery as FileListQuery } from "../openai/files.js";
import { ANSWERS, type ApiRoute, FileUpload } from "./route-table.js";

const jobs = (route: Omit<ApiRoute, "tag" | "access">): ApiRoute => ({ tag: "OpenAI", access: "api-key", ...route });

export const JOBS_ROUTES: readonly ApiRoute[] = [
  jobs({
    method: "post",
    path: "/v1/files",
    summary: "Uploads a file (multipart: file and purpose), up to --max-file-bytes",
    body: { name: "FileUpload", schema: FileUpload, mediaType: "multipart/form-data" },
    response: ANSWERS.json("a file object"),
  }),
  jobs({
    method: "get",
    path: "/v1/files",
    summary: "The uploaded files, newest first",
    query: FileListQuery,
    response: ANSWERS.json("a list of file objects"),
  }),
  jobs({ method: "get", path: "/v1/files/{id}", summary: "A file object", response: ANSWERS.json("a file object") }),
  jobs({
    method: "get",
    path: "/v1/files/{id}/content",
    summary: "A file's bytes",
    response: ANSWERS.text("the file's content", "application/octet-stream"),
  }),
  jobs({
    method: "delete",
    path: "/v1/files/{id}",
    summary: "Deletes a file",
    response: ANSWERS.json("{id, object: file, deleted: true}"),
  }),
  jobs({
    method: "post",
    path: "/v1/batches",
    summary: "Starts a batch over an uploaded JSON Lines file",
    body: { name: "CreateBatchRequest", schema: CreateBatchRequest },
    response: ANSWERS.json("a batch object"),
  }),
  jobs({
    method: "get",
    path: "/v1/batches",
    summary: "The batches, newest first",
    query: BatchListQuery,
    response: ANSWERS.json("a list of batch objects"),
  }),
  jobs({ method: "get", path: "/v1/batches/{id}", summary: "A batch", response: ANSWERS.json("a batch object") }),
  jobs({
    method: "post",
    path: "/v1/batches/{id}/cancel",
    summary: "Cancels a batch; its unfinished lines go to the error file",
    response: ANSWERS.json("the batch object, cancelling or cancelled"),
  }),
  jobs({
    method: "post",
    path: "/v1/background_requests",
    summary: "Queues one request to an endpoint a batch may call, run by any worker",
    body: { name: "BackgroundRequest", schema: BackgroundRequest },
    response: ANSWERS.json("a background request object"),
  }),
  jobs({
    method: "get",
    path: "/v1/background_requests/{id}",
    summary: "A background request and, once done, its response",
    response: ANSWERS.json("a background request object"),
  }),
  jobs({
    method: "post",
    path: "/v1/background_requests/{id}/cancel",
    summary: "Cancels a background request",
    response: ANSWERS.json("the background request object"),
  }),
];
