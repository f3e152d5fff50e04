import path from "node:path";
import { NotFound } from "../errors";
import { DirectoryLocation, isBucketHref, type ArchiveLocation } from "./location";
import { BucketLocation } from "./s3";

/** An archive location as a user writes it: `s3://bucket/prefix`, or a directory (made absolute). */
export function archiveLocation(where: string): ArchiveLocation {
  return isBucketHref(where) ? new BucketLocation(where) : new DirectoryLocation(path.resolve(where));
}

/** A file's href (a path or s3://bucket/key) as its location and its name. */
export function fileLocation(href: string): { location: ArchiveLocation; file: string } {
  if (isBucketHref(href)) {
    const cut = href.lastIndexOf("/");
    if (cut <= "s3://".length) throw new NotFound(`Object ${href}`);
    return { location: new BucketLocation(href.slice(0, cut)), file: href.slice(cut + 1) };
  }
  return { location: new DirectoryLocation(path.dirname(path.resolve(href))), file: path.basename(href) };
}
