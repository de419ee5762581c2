export {
  EntryValidator,
  collectEntries,
  createPackStream,
  safeSegments,
  unpackArchive,
  validateArchive,
  type EntryInfo,
} from "./archive";
export { DEFAULT_MAX_ARTIFACT_BYTES, createArtifactStore, type ArtifactStoreOptions } from "./store";
