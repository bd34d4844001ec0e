// Errors the user caused and can fix (bad flag, unknown dataset, invalid request): the front
// ends print their message as is, without a stack. Anything else is a bug or a fault.
export class UserError extends Error {
  /**
   * The request field at fault, as the API names it ('runId', 'config.model'): the API's answer
   * names it; the CLI, whose flags are named otherwise, prints only the message.
   */
  readonly field: string | undefined;

  constructor(message: string, field?: string) {
    super(message);
    this.name = 'UserError';
    this.field = field;
  }
}

/** A valid request that the current state forbids: a run that is not running, a name in use… */
export class ConflictError extends UserError {
  constructor(message: string, field?: string) {
    super(message, field);
    this.name = 'ConflictError';
  }
}

export class NotFoundError extends UserError {
  constructor(what: string, ref: string | number, field?: string) {
    super(`no ${what} "${ref}"`, field);
    this.name = 'NotFoundError';
  }
}
