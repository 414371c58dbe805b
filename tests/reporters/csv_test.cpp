// Filled by the csv reporter's change (issue 17).
