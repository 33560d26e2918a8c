import {
  ASTVisitor,
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  getNamedType,
  getNullableType,
  GraphQLError,
  GraphQLField,
  GraphQLList,
  GraphQLNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  SelectionSetNode,
  ValidationContext,
  visit,
} from 'graphql';
import { MAX_PAGE_SIZE } from './pagination';

/**
 * Bounds on what one GraphQL operation may ask for, so that no single request (authenticated or
 * not) can make the service decrypt, hash or join without limit. Checked during validation, before
 * any resolver runs; Apollo caches validated documents, so these rules depend on the document only.
 */
export const QUERY_LIMITS = {
  maxDepth: 10,
  maxAliases: 30,
  maxCost: 10_000,
} as const;

/** Fields whose resolution is far dearer than reading a column: the chain check hashes every event, names and notes are decrypted. */
const FIELD_COST: Record<string, number> = {
  'Query.verifyEventChain': 6_000,
  'DeletionRequest.subjectName': 10,
  'DeletionRequest.note': 10,
};
/** Connections say how many they return (`first`, 20 when left out); other lists of objects count as this many. */
const DEFAULT_PAGE = 20;
const UNPAGED_LIST = 10;

interface Totals {
  cost: number;
  depth: number;
}

/**
 * How many items a connection field returns at most: its `first`, the default page when left out, or a
 * full page when `first` is a variable (unknown while validating); null for a field without `first`.
 */
function pageArgument(field: FieldNode, definition: GraphQLField<unknown, unknown> | undefined): number | null {
  const first = field.arguments?.find((a) => a.name.value === 'first');
  if (!first) return definition?.args.some((a) => a.name === 'first') ? DEFAULT_PAGE : null;
  if (first.value.kind === Kind.INT) return Math.max(1, Number(first.value.value));
  if (first.value.kind === Kind.NULL) return DEFAULT_PAGE;
  return MAX_PAGE_SIZE;
}

class OperationCoster {
  private readonly fragments: Map<string, FragmentDefinitionNode>;

  constructor(private readonly context: ValidationContext) {
    this.fragments = new Map(
      context
        .getDocument()
        .definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
        .map((d) => [d.name.value, d]),
    );
  }

  /**
   * Cost and depth (levels of fields; fragments are not levels) of a selection set on `type`, fragments
   * inlined (a fragment cycle counts once; NoFragmentCycles reports it).
   */
  measure(selectionSet: SelectionSetNode, type: GraphQLNamedType | undefined, visiting: Set<string> = new Set()): Totals {
    let cost = 0;
    let depth = 0;
    for (const selection of selectionSet.selections) {
      let inner: Totals;
      if (selection.kind === Kind.FIELD) {
        inner = this.measureField(selection, type, visiting);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const on = selection.typeCondition ? this.context.getSchema().getType(selection.typeCondition.name.value) ?? undefined : type;
        inner = this.measure(selection.selectionSet, on, visiting);
      } else {
        const fragment = this.fragments.get(selection.name.value);
        if (!fragment || visiting.has(fragment.name.value)) continue;
        const on = this.context.getSchema().getType(fragment.typeCondition.name.value) ?? undefined;
        inner = this.measure(fragment.selectionSet, on, new Set(visiting).add(fragment.name.value));
      }
      cost += inner.cost;
      depth = Math.max(depth, inner.depth);
    }
    return { cost, depth };
  }

  private measureField(field: FieldNode, parent: GraphQLNamedType | undefined, visiting: Set<string>): Totals {
    const definition = parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[field.name.value] : undefined;
    const own = (parent && FIELD_COST[`${parent.name}.${field.name.value}`]) ?? 1;
    if (!field.selectionSet) return { cost: own, depth: 1 };
    const child = this.measure(field.selectionSet, definition ? getNamedType(definition.type) : undefined, visiting);
    const page = pageArgument(field, definition);
    // `edges` is as long as its connection's page, which the connection field already counted.
    const isList = definition !== undefined && getNullableType(definition.type) instanceof GraphQLList && field.name.value !== 'edges';
    const times = page ?? (isList ? UNPAGED_LIST : 1);
    return { cost: own + times * child.cost, depth: 1 + child.depth };
  }
}

/** Rejects operations nested deeper than maxDepth, with more than maxAliases aliases, or costing more than maxCost. */
export function queryLimitsRule(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(operation) {
      const root = context.getSchema().getRootType(operation.operation) ?? undefined;
      const { cost, depth } = new OperationCoster(context).measure(operation.selectionSet, root);
      if (depth > QUERY_LIMITS.maxDepth) {
        context.reportError(new GraphQLError(`the operation is nested ${depth} levels deep; at most ${QUERY_LIMITS.maxDepth} are allowed`, { nodes: [operation] }));
      }
      if (cost > QUERY_LIMITS.maxCost) {
        context.reportError(new GraphQLError(`the operation costs ${cost}; at most ${QUERY_LIMITS.maxCost} is allowed (ask for fewer items, fewer decrypted fields or one verifyEventChain per request)`, { nodes: [operation] }));
      }
      return false;
    },
    Document(document) {
      let aliases = 0;
      visit(document, { Field: (field) => void (field.alias && aliases++) });
      if (aliases > QUERY_LIMITS.maxAliases) context.reportError(new GraphQLError(`the document has ${aliases} aliases; at most ${QUERY_LIMITS.maxAliases} are allowed`));
    },
  };
}

/** Whether an operation asks about the schema itself (`__schema` or `__type`; `__typename` is harmless). */
export function usesIntrospection(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Field(field) {
      if (field.name.value === '__schema' || field.name.value === '__type') found = true;
    },
  });
  return found;
}
