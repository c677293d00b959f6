-- Full-text index of knowledge-base chunks (FTS5; not expressible in drizzle, hence this custom
-- migration). `terms` holds the chunk's title and text tokenized by the application (CJK
-- character unigrams and bigrams, lowercased words) and space-separated, because no FTS5
-- tokenizer segments Chinese; `scope` holds a knowledge-base token and a document token.
-- The rowid of a row is the `seq` of its chunk in `kb_chunks`.
CREATE VIRTUAL TABLE `kb_chunks_fts` USING fts5(`terms`, `scope`, tokenize = 'unicode61 remove_diacritics 2');
--> statement-breakpoint
-- Whatever removes a chunk (its document or knowledge base deleted, a re-index, a cascade from a
-- deleted user) removes its full-text row and its local vector with it: no orphans.
CREATE TRIGGER `kb_chunks_after_delete` AFTER DELETE ON `kb_chunks` BEGIN
  DELETE FROM `kb_chunks_fts` WHERE rowid = old.`seq`;
  DELETE FROM `rag_vectors` WHERE id = old.`id`;
END;
