import { registerNodeType } from '../../../../engine/workflow/nodes/registry';
import { documentExtractor } from './document-extractor';
import { knowledgeRetrieval } from './knowledge-retrieval';

// Knowledge inside workflows: node types that need this module (the engine imports no module).
registerNodeType(knowledgeRetrieval);
registerNodeType(documentExtractor);
