// Errors the user caused and can fix (bad flag, unknown dataset, invalid request): the front
// ends print their message as is, without a stack. Anything else is a bug or a fault.
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

export class NotFoundError extends UserError {
  constructor(what: string, ref: string | number) {
    super(`no ${what} "${ref}"`);
    this.name = 'NotFoundError';
  }
}
