/**
 * The CRD directory: Service key → ElastiService details.
 *
 * @module
 */
export {
  type CRDDetails,
  CRDDirectory,
  CRDDirectoryError,
  type CRDDirectoryOptions,
  type CRDEntry,
  type DeepReadonly,
  type DirectoryChange,
  type DirectoryListener,
  parseServiceKey,
  serviceKey,
} from './directory.ts';
