// (being written)
export const pages = [];
