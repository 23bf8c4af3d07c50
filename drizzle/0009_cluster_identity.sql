CREATE TABLE `cluster_identity` (
	`id` integer PRIMARY KEY NOT NULL,
	`cluster_id` text NOT NULL,
	CONSTRAINT "cluster_identity_one_row" CHECK("cluster_identity"."id" = 1)
);
