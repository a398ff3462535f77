// Checks factory-API responses against the OpenAPI document the factory serves: the operation is
// found from the method and the concrete path, and the body must match the schema of its status.
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

export type OpenApiDoc = {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: { 'application/json'?: { schema: object } } }> }>
  >;
  components: { schemas: Record<string, object> };
};

export class LabApiConformance {
  private readonly ajv: InstanceType<typeof Ajv2020.default>;
  private readonly compiled = new Map<string, ReturnType<InstanceType<typeof Ajv2020.default>['compile']>>();
  readonly problems: string[] = [];
  checked = 0;

  constructor(private readonly doc: OpenApiDoc) {
    this.ajv = new Ajv2020.default({ strict: false, allErrors: true });
    addFormats.default(this.ajv);
    this.ajv.addSchema({ $id: 'lab', components: doc.components });
  }

  /** Records a problem when the response does not match the document; returns it too. */
  check(method: string, path: string, status: number, body: unknown): string | undefined {
    const bare = path.split('?')[0];
    const entry = Object.entries(this.doc.paths).find(([tpl]) =>
      new RegExp(`^${tpl.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(bare),
    );
    const op = entry?.[1][method.toLowerCase()];
    let problem: string | undefined;
    if (!op) problem = `${method} ${bare}: not in the document`;
    else {
      const res = op.responses[String(status)];
      if (!res)
        problem = `${method} ${bare}: status ${status} is not documented (documented: ${Object.keys(op.responses).join(', ')})`;
      else {
        const schema = res.content?.['application/json']?.schema;
        if (schema) {
          const key = JSON.stringify(schema);
          let validate = this.compiled.get(key);
          if (!validate) {
            validate = this.ajv.compile(JSON.parse(key.replaceAll('"#/components', '"lab#/components')));
            this.compiled.set(key, validate);
          }
          if (!validate(body)) problem = `${method} ${bare} ${status}: ${this.ajv.errorsText(validate.errors)}`;
        }
      }
    }
    this.checked++;
    if (problem) this.problems.push(problem);
    return problem;
  }
}
