export * from './catalog.schema.js';
export { parseCatalogYaml, validateCatalog, type CatalogValidation } from './validate-catalog.js';
export { buildCatalogIndex, mapAlertToCatalog, type CatalogIndex } from './catalog-index.js';
