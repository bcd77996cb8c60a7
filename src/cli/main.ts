#!/usr/bin/env node
console.log('probe');
