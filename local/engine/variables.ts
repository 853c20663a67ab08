import type { JsonObject, JsonValue } from './types';

/**
 * Workflow variables (`Assign`), scoped as AWS scopes them: the top-level states share one scope; each Parallel
 * branch and each inline Map iteration runs in a scope of its own that reads the scopes around it but may not
 * assign a name that an outer scope holds; a distributed Map's child workflows see no outer variables at all.
 *
 * A scope's values object is replaced, never changed, on assignment, so a snapshot of the variables at some point
 * (for history details or a later redrive) is just a reference.
 */
export class VariableScope {
  private own: Readonly<JsonObject>;

  public constructor(
    public readonly parent: VariableScope | undefined = undefined,
    initial: Readonly<JsonObject> = EMPTY,
  ) {
    this.own = initial;
  }

  /** The value of a variable, or undefined when no scope in the chain declares it. */
  public get(name: string): JsonValue | undefined {
    let scope: VariableScope | undefined = this;
    while (scope) {
      if (Object.hasOwn(scope.own, name)) return scope.own[name];
      scope = scope.parent;
    }
    return undefined;
  }

  /** The outer scope that declares `name`, if any (assigning it from here is an error). */
  public outerDeclares(name: string): boolean {
    let scope = this.parent;
    while (scope) {
      if (Object.hasOwn(scope.own, name)) return true;
      scope = scope.parent;
    }
    return false;
  }

  /** Applies a state's assignments at once (a state's references all read the values from before it). */
  public assign(values: Readonly<JsonObject>): void {
    this.own = { ...this.own, ...values };
  }

  /** This scope's own values (an immutable snapshot). */
  public snapshot(): Readonly<JsonObject> {
    return this.own;
  }

  /** Every visible variable, inner scopes shadowing outer ones (JSONata bindings). */
  public all(): JsonObject {
    if (!this.parent) return this.own as JsonObject;
    return { ...this.parent.all(), ...this.own };
  }
}

const EMPTY: Readonly<JsonObject> = Object.freeze({});

/** Variable names: a letter or underscore, then letters, digits and underscores, at most 80 characters. */
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,79}$/;
