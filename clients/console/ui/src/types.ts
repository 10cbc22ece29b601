// The page speaks the server's types: one definition of the local API's shapes.
export type * from '../../api-types';
