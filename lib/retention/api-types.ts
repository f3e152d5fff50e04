import type { Jsonified } from "../api/types";
import type { StorageReport } from "../storage/report";
import type { RetentionForecast } from "./forecast";
import type { RetentionSettings } from "./settings";

/** The retention and storage routes' answers as the browser reads them. */
export type RetentionJson = Jsonified<RetentionSettings>;
export type RetentionForecastJson = Jsonified<RetentionForecast>;
export type StorageJson = Jsonified<StorageReport>;
