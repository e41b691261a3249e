import type { IncomingMessage } from "node:http";
import { promises as fs } from "node:fs";
import busboy from "busboy";
import { HttpError, stageUpload, type StagedUpload } from "../reana/http";

/**
 * Receives the old files API upload (`multipart/form-data` with a `file` part and an optional `name` field). The
 * file part is streamed into the staging folder; it is only handed back once the whole form has arrived, so a
 * connection cut inside the form never yields a truncated file.
 */
export interface MultipartFile {
  /** The `name` field, if any. */
  name?: string;
  /** The file name the client gave the part. */
  filename?: string;
  staged: StagedUpload;
}

export function receiveMultipartFile(req: IncomingMessage, stagingDir: string, maxBytes: number): Promise<MultipartFile> {
  return new Promise<MultipartFile>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 1, fields: 10, fileSize: maxBytes } });
    } catch {
      req.resume();
      reject(new HttpError(400, { message: "Send the file as multipart/form-data with a 'file' part." }));
      return;
    }
    let name: string | undefined;
    let filename: string | undefined;
    let staging: Promise<StagedUpload> | undefined;
    let fileStream: NodeJS.ReadableStream & { destroy(error?: Error): void } | undefined;
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      req.resume();
      // Ending the part stream makes the staging step fail and delete its temporary file.
      fileStream?.destroy(new Error("upload cut off"));
      void staging?.then((s) => fs.rm(s.tmp, { force: true })).catch(() => undefined);
      reject(err instanceof HttpError ? err : new HttpError(400, { message: `Malformed multipart upload: ${(err as Error).message}.` }));
    };
    parser.on("field", (field, value) => {
      if (field === "name") name = value;
    });
    parser.on("file", (field, stream, info) => {
      if (field !== "file" || staging) {
        stream.resume();
        return;
      }
      filename = info.filename;
      fileStream = stream;
      stream.on("limit", () => fail(new HttpError(413, { message: `File larger than ${maxBytes} bytes.` })));
      staging = stageUpload(stream, stagingDir);
      staging.catch(fail);
    });
    parser.on("error", fail);
    parser.on("close", () => {
      if (failed) return;
      if (!staging) return fail(new HttpError(400, { message: "The form has no 'file' part." }));
      staging.then((staged) => {
        if (!failed) resolve({ name, filename, staged });
        else void fs.rm(staged.tmp, { force: true });
      }, fail);
    });
    req.on("close", () => {
      if (!req.complete) fail(new HttpError(400, { message: "Upload interrupted." }));
    });
    req.pipe(parser);
  });
}
