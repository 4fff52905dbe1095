/*
 * Type-level check of the Grafana dashboards against Grafana's own dashboard model
 * (@grafana/schema, pinned: its generated types follow Grafana releases). `npm run typecheck`
 * compiles this file; nothing runs it. It catches a wrong value type (a gridPos width as a
 * string), a panel without `type`, targets that are not a list; not misspelt optional keys.
 * One line per dashboard file.
 */
import type { Dashboard } from '@grafana/schema';
import overview from '../../dashboards/vigil-overview.json' with { type: 'json' };

/** JSON imports type string fields as `string`, not Grafana's string enums: compare shapes and primitive types. */
type Widen<T> = T extends string
  ? string
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : T extends null | undefined
        ? T
        : T extends readonly (infer U)[]
          ? Widen<U>[]
          : T extends object
            ? { [K in keyof T]: Widen<T[K]> }
            : T;

overview satisfies Widen<Dashboard>;
